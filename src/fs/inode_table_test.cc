#include "fs/inode_table.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace sptfs {
namespace {

class InodeTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/itabXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/a").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/b").c_str(), 0755), 0);
    close(open((dir_ + "/a/f").c_str(), O_CREAT | O_WRONLY, 0644));
    table_.MakeRoot(open(dir_.c_str(), O_PATH | O_DIRECTORY), 0, false);
  }
  void TearDown() override { [[maybe_unused]] int rc = system(("rm -rf " + dir_).c_str()); }

  // What the FUSE lookup does: open O_PATH, stat, record.
  Inode* Lookup(Inode* parent, const std::string& name) {
    int fd = openat(parent->fd, name.c_str(), O_PATH | O_NOFOLLOW);
    EXPECT_GE(fd, 0) << name;
    struct stat st;
    fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    return table_.Found(parent, name, fd, st);
  }

  std::string dir_;
  InodeTable table_;
};

TEST_F(InodeTableTest, PathsFollowRenamesOfDirectories) {
  Inode* a = Lookup(table_.root(), "a");
  Inode* f = Lookup(a, "f");
  EXPECT_EQ(table_.PathOf(table_.root()), "/");
  EXPECT_EQ(table_.PathOf(f), "/a/f");
  EXPECT_EQ(table_.PathOf(a, "new"), "/a/new");
  ASSERT_EQ(rename((dir_ + "/a").c_str(), (dir_ + "/b/moved").c_str()), 0);
  Inode* b = Lookup(table_.root(), "b");
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/b/moved").c_str(), &st), 0);
  table_.Moved(0, st.st_dev, st.st_ino, b, "moved");
  EXPECT_EQ(table_.PathOf(f), "/b/moved/f");  // the child follows its directory
}

TEST_F(InodeTableTest, HeldFdsAreCountedAndListedForReclaim) {
  size_t base = table_.held_fds();  // the root
  EXPECT_EQ(base, 1u);
  Inode* a = Lookup(table_.root(), "a");
  Inode* b = Lookup(table_.root(), "b");
  EXPECT_EQ(table_.held_fds(), base + 2);  // directories keep their fd
  auto all = table_.FdHolders(10);
  ASSERT_EQ(all.size(), 2u);  // the pinned root is never listed
  for (const auto& [parent, name] : all) {
    EXPECT_EQ(parent, FUSE_ROOT_ID);
    EXPECT_TRUE(name == "a" || name == "b") << name;
  }
  // One at a time, a growing skip visits both, then wraps around.
  auto first = table_.FdHolders(1, 0), second = table_.FdHolders(1, 1);
  auto third = table_.FdHolders(1, 2);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(first[0].second, second[0].second);
  EXPECT_EQ(third, first);
  table_.Forget(a, 1);
  table_.Forget(b, 1);
  EXPECT_EQ(table_.held_fds(), base);  // closed with their nodes
  EXPECT_TRUE(table_.FdHolders(10).empty());
}

TEST_F(InodeTableTest, SameInodeIsOneNodeAndForgetFreesWhenUnused) {
  Inode* a1 = Lookup(table_.root(), "a");
  Inode* a2 = Lookup(table_.root(), "a");
  EXPECT_EQ(a1, a2);
  size_t before = table_.size();
  Inode* f = Lookup(a1, "f");
  EXPECT_EQ(table_.size(), before + 1);
  table_.Forget(a1, 2);  // the kernel forgets "a", but "f" still holds it
  EXPECT_EQ(table_.size(), before + 1);
  EXPECT_EQ(table_.PathOf(f), "/a/f");
  table_.Forget(f, 1);  // now both go
  EXPECT_EQ(table_.size(), before - 1);
}

TEST_F(InodeTableTest, HardLinkTakesTheLatestName) {
  Inode* a = Lookup(table_.root(), "a");
  ASSERT_EQ(link((dir_ + "/a/f").c_str(), (dir_ + "/a/g").c_str()), 0);
  Inode* f = Lookup(a, "f");
  Inode* g = Lookup(a, "g");
  EXPECT_EQ(f, g);
  EXPECT_EQ(table_.PathOf(f), "/a/g");
}

// A plain file looked up without an fd (one fstatat, as the FUSE lookup does for it).
Inode* LookupWithoutFd(InodeTable& table, Inode* parent, const std::string& name) {
  struct stat st;
  EXPECT_EQ(fstatat(parent->fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW), 0) << name;
  EXPECT_FALSE(InodeTable::WantsFd(st));
  return table.Found(parent, name, -1, st);
}

TEST_F(InodeTableTest, FileKeepsItsFdFromFirstUseWithinBudget) {
  table_.set_file_fd_budget(1);
  Inode* a = Lookup(table_.root(), "a");
  close(open((dir_ + "/a/g").c_str(), O_CREAT | O_WRONLY, 0644));
  Inode* f = LookupWithoutFd(table_, a, "f");
  Inode* g = LookupWithoutFd(table_, a, "g");
  EXPECT_LT(f->fd, 0);
  {
    PathFd first(table_, f);  // opened through the parent, then kept by the node
    ASSERT_EQ(first.error(), 0);
    EXPECT_EQ(f->fd, first.fd());
  }
  EXPECT_GE(fcntl(f->fd, F_GETFD), 0);  // still open: the node owns it
  {
    PathFd other(table_, g);  // the budget is spent: g's fd is the caller's, for one call
    ASSERT_EQ(other.error(), 0);
    EXPECT_LT(g->fd, 0);
  }
  int kept = f->fd;
  table_.Forget(f, 1);  // the node goes, and its fd with it
  EXPECT_EQ(fcntl(kept, F_GETFD), -1);
}

TEST_F(InodeTableTest, FileReplacedBehindTheTableIsStale) {
  table_.set_file_fd_budget(10);
  Inode* a = Lookup(table_.root(), "a");
  Inode* f = LookupWithoutFd(table_, a, "f");
  // Another inode takes the name (made first, so its inode number cannot be f's).
  close(open((dir_ + "/a/new").c_str(), O_CREAT | O_WRONLY, 0644));
  ASSERT_EQ(rename((dir_ + "/a/new").c_str(), (dir_ + "/a/f").c_str()), 0);
  PathFd pf(table_, f);
  EXPECT_EQ(pf.error(), ESTALE);
  EXPECT_LT(f->fd, 0);  // nothing adopted
}

// Issue 12 item 5: the data open must not truncate whatever now holds the name.
TEST_F(InodeTableTest, OpenDataWithTruncNeverTouchesAReplacingFile) {
  table_.set_file_fd_budget(0);  // the node keeps no fd: the open goes by name
  Inode* a = Lookup(table_.root(), "a");
  Inode* f = LookupWithoutFd(table_, a, "f");
  std::string other = dir_ + "/a/other";
  int w = open(other.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_EQ(write(w, "keep", 4), 4);
  close(w);
  ASSERT_EQ(rename(other.c_str(), (dir_ + "/a/f").c_str()), 0);
  int fd = -1;
  EXPECT_EQ(table_.OpenData(f, O_WRONLY | O_TRUNC | O_CLOEXEC, &fd), ESTALE);
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/a/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4);                    // intact
  Inode* g = LookupWithoutFd(table_, a, "f");  // the same open of the right node works
  ASSERT_EQ(table_.OpenData(g, O_WRONLY | O_TRUNC | O_CLOEXEC, &fd), 0);
  close(fd);
  ASSERT_EQ(stat((dir_ + "/a/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(InodeTableTest, PinnedVirtualChildren) {
  Inode* v = table_.AddPinned(table_.root(), "virt", -1, -1, true);
  EXPECT_TRUE(v->is_virtual());
  EXPECT_TRUE(v->read_only);
  EXPECT_EQ(table_.Overlay(table_.root(), "virt"), v);
  EXPECT_EQ(table_.Overlay(table_.root(), "other"), nullptr);
  EXPECT_EQ(table_.PathOf(v, "x"), "/virt/x");
  for (int i = 0; i < 5; ++i) table_.Ref(v);  // five kernel lookups
  table_.Forget(v, 5);                        // pinned: never freed
  EXPECT_EQ(table_.Overlay(table_.root(), "virt"), v);
}

// Issue 15 item 3: dropping more lookups than were counted is a bug that is reported,
// never clamped in silence; a debug build stops there.
TEST_F(InodeTableTest, LookupCountUnderflowIsLoud) {
  Inode* a = Lookup(table_.root(), "a");
  Lookup(a, "f");
  Inode* f = Lookup(a, "f");
  auto drop_three = [&] { table_.Forget(f, 3); };
#ifndef NDEBUG
  EXPECT_DEATH(drop_three(), "BUG: lookup count underflow: dropping 3 reference\\(s\\) .*has 2");
#else
  testing::internal::CaptureStderr();
  drop_three();
  EXPECT_NE(testing::internal::GetCapturedStderr().find("BUG: lookup count underflow"),
            std::string::npos);
#endif
}

TEST_F(InodeTableTest, RootCountsTheKernelsOwnLookup) {
  testing::internal::CaptureStderr();
  table_.Forget(table_.root(), 1);  // the kernel may forget the root it never looked up
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

// Freed memory goes back once enough nodes are gone: at least kTrimNodes, and at least
// as many as remain (so an emptying table trims about log2(size) times, not per FORGET).
TEST_F(InodeTableTest, TrimHintAfterEnoughNodesWereForgotten) {
  constexpr size_t k = InodeTable::kTrimNodes;
  std::vector<Inode*> nodes;
  for (size_t i = 0; i < 2 * k + 2; ++i) {
    struct stat st {};
    st.st_mode = S_IFREG | 0644;
    st.st_nlink = 1;
    st.st_ino = 1000000 + i;
    nodes.push_back(table_.Found(table_.root(), "f" + std::to_string(i), -1, st));
  }
  EXPECT_FALSE(table_.TakeTrimHint());
  for (size_t i = 0; i < k; ++i) table_.Forget(nodes[i], 1);
  EXPECT_FALSE(table_.TakeTrimHint());  // k freed, k + 2 (and the root) remain
  for (size_t i = k; i < k + 2; ++i) table_.Forget(nodes[i], 1);
  EXPECT_TRUE(table_.TakeTrimHint());   // k + 2 freed, k + 1 remain
  EXPECT_FALSE(table_.TakeTrimHint());  // once
  for (size_t i = k + 2; i < 2 * k + 2; ++i) table_.Forget(nodes[i], 1);
  EXPECT_TRUE(table_.TakeTrimHint());  // k more freed, the root remains
  EXPECT_EQ(table_.size(), 1u);
}

// FORGET_MULTI: each entry counts, across chunks of the batch, and only what the
// kernel forgot goes.
TEST_F(InodeTableTest, ForgetManyUnrefsEveryEntry) {
  std::vector<fuse_forget_data> batch;
  std::vector<Inode*> nodes;
  for (size_t i = 0; i < 3 * InodeTable::kForgetChunk + 5; ++i) {
    struct stat st {};
    st.st_mode = S_IFREG | 0644;
    st.st_nlink = 1;
    st.st_ino = 2000000 + i;
    nodes.push_back(table_.Found(table_.root(), "g" + std::to_string(i), -1, st));
    batch.push_back({table_.IdOf(nodes.back()), 1});
  }
  table_.Ref(nodes[7]);  // looked up twice: one FORGET of 1 leaves it
  size_t before = table_.size();
  table_.Forget(batch.data(), batch.size());
  EXPECT_EQ(table_.size(), before - batch.size() + 1);
  EXPECT_EQ(table_.PathOf(nodes[7]), "/g7");
  table_.Forget(nodes[7], 1);
  EXPECT_EQ(table_.size(), before - batch.size());
}

// A plain file's stat as the FUSE lookup sees it, for nodes with no backing file.
struct stat FileStat(ino_t ino, nlink_t nlink = 1) {
  struct stat st {};
  st.st_mode = S_IFREG | 0644;
  st.st_nlink = nlink;
  st.st_ino = ino;
  return st;
}

// Names up to Inode::kInlineName bytes live in the node; longer ones in a heap block.
// Both kinds survive renames between them (under ASan: nothing leaks or is read freed).
TEST_F(InodeTableTest, NamesLongerThanTheInlineSize) {
  Inode* a = Lookup(table_.root(), "a");
  std::string fits(Inode::kInlineName, 'i'), over(Inode::kInlineName + 1, 'o');
  std::string longest(255, 'l');
  Inode* x = table_.Found(a, fits, -1, FileStat(3000001));
  Inode* y = table_.Found(a, over, -1, FileStat(3000002));
  Inode* z = table_.Found(a, longest, -1, FileStat(3000003));
  EXPECT_EQ(table_.PathOf(x), "/a/" + fits);
  EXPECT_EQ(table_.PathOf(y), "/a/" + over);
  EXPECT_EQ(table_.PathOf(z), "/a/" + longest);
  table_.Moved(0, 0, 3000001, a, longest);      // inline -> heap
  table_.Moved(0, 0, 3000003, a, "s");          // heap -> inline
  table_.Moved(0, 0, 3000002, a, over + over);  // heap -> heap
  EXPECT_EQ(table_.PathOf(x), "/a/" + longest);
  EXPECT_EQ(table_.PathOf(z), "/a/s");
  EXPECT_EQ(table_.PathOf(y), "/a/" + over + over);
  EXPECT_EQ(x->name(), longest);
  table_.Forget(x, 1);
  table_.Forget(y, 1);
  table_.Forget(z, 1);
  EXPECT_EQ(table_.PathOf(a, over), "/a/" + over);
}

// A count that reached Inode::kMaxRefs is lost: the node is kept for good, and no
// number of forgets frees it or reports an underflow.
TEST_F(InodeTableTest, SaturatedCountKeepsTheNode) {
  Inode* f = table_.Found(table_.root(), "f", -1, FileStat(3100001));
  table_.Ref(f, Inode::kMaxRefs);  // past the top: saturates, never wraps
  EXPECT_EQ(f->refs, Inode::kMaxRefs);
  size_t before = table_.size();
  testing::internal::CaptureStderr();
  table_.Forget(f, uint64_t{1} << 40);
  table_.Forget(f, 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(table_.size(), before);
  EXPECT_EQ(table_.PathOf(f), "/f");
  // Below the top a count still counts: one more than was taken is an underflow.
  Inode* g = table_.Found(table_.root(), "g", -1, FileStat(3100002));
  table_.Ref(g, Inode::kMaxRefs - 2);
  EXPECT_EQ(g->refs, Inode::kMaxRefs - 1);
  table_.Forget(g, Inode::kMaxRefs - 1);
  EXPECT_EQ(table_.size(), before);  // g went
}

// Nodes come from chunks of kNodesPerChunk; a chunk whose nodes are all forgotten is
// unmapped (one spare is kept), so forgetting everything gives the memory back. Nodes
// never move while they live.
TEST_F(InodeTableTest, ChunksAreGivenBackWhenTheirNodesAreForgotten) {
  constexpr size_t n = 3 * InodeTable::kNodesPerChunk + 10;
  size_t base_chunks = table_.chunks(), base_buckets = table_.bucket_bytes();
  EXPECT_EQ(base_chunks, 1u);  // the root's
  std::vector<Inode*> nodes;
  for (size_t i = 0; i < n; ++i) {
    nodes.push_back(
        table_.Found(table_.root(), "f" + std::to_string(i), -1, FileStat(4000000 + i)));
  }
  EXPECT_EQ(table_.chunks(), 4u);
  EXPECT_GT(table_.bucket_bytes(), base_buckets);
  for (size_t i = 0; i < n; ++i) {  // found again: the same node, at the same address
    ASSERT_EQ(table_.Found(table_.root(), "f" + std::to_string(i), -1, FileStat(4000000 + i)),
              nodes[i]);
  }
  for (size_t i = 0; i < n; i += 2) table_.Forget(nodes[i], 2);  // half: chunks stay
  EXPECT_EQ(table_.chunks(), 4u);
  for (size_t i = 1; i < n; i += 2) {
    EXPECT_EQ(table_.PathOf(nodes[i]), "/f" + std::to_string(i));
    table_.Forget(nodes[i], 2);
  }
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.chunks(), base_chunks + 1);  // the root's, and the spare
  EXPECT_EQ(table_.bucket_bytes(), base_buckets);
  // Freed slots are used again.
  Inode* again = table_.Found(table_.root(), "again", -1, FileStat(4900000));
  EXPECT_EQ(table_.chunks(), base_chunks + 1);
  EXPECT_EQ(table_.PathOf(again), "/again");
}

// A hard link reached through another directory moves the one node there, and the old
// directory is no longer held by it.
TEST_F(InodeTableTest, HardLinkInAnotherDirectoryReleasesTheOld) {
  Inode* a = Lookup(table_.root(), "a");
  Inode* b = Lookup(table_.root(), "b");
  ASSERT_EQ(link((dir_ + "/a/f").c_str(), (dir_ + "/b/a-long-link-name").c_str()), 0);
  Inode* f = Lookup(a, "f");
  EXPECT_GE(f->fd, 0);  // several links: kept by fd
  Inode* g = Lookup(b, "a-long-link-name");
  EXPECT_EQ(f, g);
  EXPECT_EQ(table_.PathOf(f), "/b/a-long-link-name");
  size_t before = table_.size();
  table_.Forget(a, 1);  // only the kernel held "a" now
  EXPECT_EQ(table_.size(), before - 1);
  table_.Forget(f, 2);
  table_.Forget(b, 1);
  EXPECT_EQ(table_.size(), before - 3);
}

// A file moved to another directory (rename): its path follows, and the directory it
// left is freed once the kernel forgets it.
TEST_F(InodeTableTest, MovedFileReleasesTheDirectoryItLeft) {
  Inode* a = Lookup(table_.root(), "a");
  Inode* b = Lookup(table_.root(), "b");
  Inode* f = Lookup(a, "f");
  ASSERT_EQ(rename((dir_ + "/a/f").c_str(), (dir_ + "/b/renamed-beyond-inline").c_str()), 0);
  table_.Moved(0, f->dev, f->ino, b, "renamed-beyond-inline");
  EXPECT_EQ(table_.PathOf(f), "/b/renamed-beyond-inline");
  EXPECT_EQ(table_.VerifyPlace(f), 0);
  struct stat st;
  ASSERT_EQ(table_.Stat(f, &st), 0);  // reached by its new place
  size_t before = table_.size();
  table_.Forget(a, 1);
  EXPECT_EQ(table_.size(), before - 1);
  table_.Forget(f, 1);
  table_.Forget(b, 1);
  EXPECT_EQ(table_.size(), before - 3);
}

// Pinned-only data lives beside the nodes: overlay children and virtual link targets.
TEST_F(InodeTableTest, PinnedOverlayAndVirtualLinks) {
  Inode* root = table_.root();
  Inode* v = table_.AddPinned(root, "virt", -1, -1, true);
  Inode* l = table_.AddPinnedLink(root, "lib", "usr/lib");
  Inode* deep = table_.AddPinnedLink(v, std::string(40, 'n'), "../somewhere/far/away");
  EXPECT_TRUE(l->is_virtual_link());
  EXPECT_FALSE(v->is_virtual_link());
  EXPECT_EQ(table_.LinkTarget(l), "usr/lib");
  EXPECT_EQ(table_.LinkTarget(deep), "../somewhere/far/away");
  EXPECT_EQ(table_.LinkTarget(v), "");
  EXPECT_EQ(table_.OverlayOf(root).size(), 2u);
  EXPECT_EQ(table_.OverlayOf(root).begin()->first, "lib");
  EXPECT_EQ(table_.Overlay(v, std::string(40, 'n')), deep);
  EXPECT_EQ(table_.PathOf(deep), "/virt/" + std::string(40, 'n'));
  EXPECT_NE(v->ino, l->ino);     // virtual nodes are numbered apart
  Inode* a = Lookup(root, "a");  // unpinned: no overlay, no target
  EXPECT_TRUE(table_.OverlayOf(a).empty());
  EXPECT_EQ(table_.Overlay(a, "lib"), nullptr);
  EXPECT_EQ(table_.LinkTarget(a), "");
}

// st_dev is kept in 32 bits (all Linux encodes); one that does not fit is refused,
// never truncated into another device's number.
TEST_F(InodeTableTest, DeviceBeyond32BitsIsRefused) {
  struct stat st = FileStat(5000001);
  st.st_dev = (dev_t{1} << 32) | 5;
  int fd = open(dir_.c_str(), O_PATH | O_DIRECTORY);
  size_t before = table_.size();
  errno = 0;
  EXPECT_EQ(table_.Found(table_.root(), "x", fd, st), nullptr);
  EXPECT_EQ(errno, EOVERFLOW);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);  // closed
  EXPECT_EQ(table_.size(), before);
  st.st_dev = 5;
  Inode* ok = table_.Found(table_.root(), "x", -1, st);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->dev, 5u);
}

// An inode number freed and given to a new inode of another type behind the mount (a
// plain file without fd deleted on the backing store, a directory made that gets its
// number, as ext4 does at once) is a new inode: it gets its own node of its own type.
// Were it taken for the file's node, the directory would be "not a directory" to
// VerifyPlace, which would skip it: moved behind the mount, its children would keep
// their old, maybe wider, path for decisions instead of ESTALE.
TEST_F(InodeTableTest, ReusedInodeNumberOfAnotherTypeIsANewNode) {
  ASSERT_EQ(mkdir((dir_ + "/d").c_str(), 0755), 0);
  close(open((dir_ + "/d/c").c_str(), O_CREAT | O_WRONLY, 0644));
  struct stat dst;
  ASSERT_EQ(stat((dir_ + "/d").c_str(), &dst), 0);
  // The file that had the number first, looked up (no fd) before it was deleted.
  struct stat old = FileStat(dst.st_ino);
  old.st_dev = dst.st_dev;
  Inode* gone = table_.Found(table_.root(), "the-old-file-name", -1, old);  // a heap name
  Inode* d = Lookup(table_.root(), "d");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d, gone);
  EXPECT_TRUE(d->is_dir());
  EXPECT_FALSE(gone->is_dir());
  // The kernel's old inode keeps its own path.
  EXPECT_EQ(table_.PathOf(gone), "/the-old-file-name");
  Inode* c = Lookup(d, "c");
  EXPECT_EQ(table_.VerifyPlace(c), 0);
  ASSERT_EQ(rename((dir_ + "/d").c_str(), (dir_ + "/b/d").c_str()), 0);  // behind the mount
  EXPECT_EQ(table_.VerifyPlace(c), ESTALE);
  // Both go when forgotten (the old one, out of the index, is not counted by size(); under
  // LeakSanitizer its heap name shows it is freed), and the number still finds the
  // directory.
  size_t before = table_.size();
  testing::internal::CaptureStderr();
  table_.Forget(gone, 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(table_.size(), before);
  table_.Moved(0, dst.st_dev, dst.st_ino, table_.root(), "d2");
  EXPECT_EQ(table_.PathOf(c), "/d2/c");
  table_.Forget(c, 1);
  table_.Forget(d, 1);
  EXPECT_EQ(table_.size(), before - 2);
}

// Whether the page holding `p` is resident.
bool Resident(const void* p) {
  uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  unsigned char in = 0;
  void* at = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) & ~(page - 1));
  EXPECT_EQ(mincore(at, page, &in), 0);
  return in & 1;
}

// One node kept alive in each chunk (a caller keeping one file open per 4,096 it looked
// up) must not keep the chunks' freed pages: at the trim hint they go back to the
// kernel (before: 245 such nodes kept 49.6 MiB of 1,000,000 nodes' pages resident).
TEST_F(InodeTableTest, FreedPagesOfChunksStillInUseAreGivenBack) {
  constexpr size_t n = size_t{4} * InodeTable::kNodesPerChunk;
  std::vector<Inode*> nodes;
  for (size_t i = 0; i < n; ++i) {
    nodes.push_back(
        table_.Found(table_.root(), "f" + std::to_string(i), -1, FileStat(6000000 + i)));
  }
  std::vector<Inode*> kept;
  for (size_t i = 0; i < n; ++i) {
    if (i % InodeTable::kNodesPerChunk == 100) {
      kept.push_back(nodes[i]);
    } else {
      table_.Forget(nodes[i], 1);
    }
  }
  EXPECT_EQ(table_.chunks(), 5u);  // four with a node each (the first has the root), the spare
  Inode* far = nodes[2 * InodeTable::kNodesPerChunk + 2000];  // freed, pages from any kept
  EXPECT_TRUE(Resident(far));
  ASSERT_TRUE(table_.TakeTrimHint());
  EXPECT_FALSE(Resident(far));
  for (Inode* k : kept) EXPECT_TRUE(Resident(k));
  for (size_t i = 0; i < kept.size(); ++i) {
    size_t at = i * InodeTable::kNodesPerChunk + 100;
    EXPECT_EQ(table_.PathOf(kept[i]), "/f" + std::to_string(at));
    EXPECT_EQ(table_.Found(table_.root(), "f" + std::to_string(at), -1, FileStat(6000000 + at)),
              kept[i]);
  }
  // The given-back slots are used again, and work.
  Inode* again = table_.Found(table_.root(), "again-with-a-long-name", -1, FileStat(6900000));
  EXPECT_EQ(table_.PathOf(again), "/again-with-a-long-name");
  table_.Forget(again, 1);
  for (Inode* k : kept) table_.Forget(k, 2);
  EXPECT_EQ(table_.size(), 1u);
}

// A directory found again under one of its own descendants (a bind mount of an ancestor
// inside the backing tree, same st_dev and inode) is refused (ELOOP), never re-parented
// there: that would make a cycle of parents, and every PathOf through it would loop for
// ever holding the table's lock (the whole daemon stops).
TEST_F(InodeTableTest, DirectoryFoundUnderItsOwnDescendantIsRefused) {
  ASSERT_EQ(mkdir((dir_ + "/a/b").c_str(), 0755), 0);
  Inode* a = Lookup(table_.root(), "a");
  Inode* b = Lookup(a, "b");
  struct stat ast;
  ASSERT_EQ(stat((dir_ + "/a").c_str(), &ast), 0);
  int fd = open((dir_ + "/a").c_str(), O_PATH | O_DIRECTORY);
  size_t refs = a->refs;
  errno = 0;
  EXPECT_EQ(table_.Found(b, "loop", fd, ast), nullptr);
  EXPECT_EQ(errno, ELOOP);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);  // ownership was taken: closed
  ASSERT_EQ(a->parent, table_.root());
  ASSERT_EQ(b->parent, a);
  EXPECT_EQ(a->refs, refs);
  EXPECT_EQ(table_.PathOf(b), "/a/b");
  errno = 0;
  EXPECT_EQ(table_.Found(a, "self", -1, ast), nullptr);  // itself: the same
  EXPECT_EQ(errno, ELOOP);
  table_.Moved(0, ast.st_dev, ast.st_ino, b, "moved");  // a move there is not recorded
  ASSERT_EQ(a->parent, table_.root());
  EXPECT_EQ(table_.PathOf(b), "/a/b");
}

}  // namespace
}  // namespace sptfs
