#include "fs/inode_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

namespace sptfs {

static_assert(sizeof(Inode) == 48, "docs/PERFORMANCE.md counts 48 bytes per node");
static_assert(std::is_trivially_destructible_v<Inode>, "the slab reuses nodes without destroying");

std::string_view Inode::name() const {
  if (name_len_ != kHeapName) return {name_, name_len_};
  const char* block;
  memcpy(&block, name_, sizeof(block));
  uint32_t len;
  memcpy(&len, block, sizeof(len));
  return {block + sizeof(len), len};
}

void Inode::FreeName() {
  if (name_len_ == kHeapName) {
    char* block;
    memcpy(&block, name_, sizeof(block));
    free(block);
  }
  name_len_ = 0;
}

void Inode::SetName(std::string_view name) {
  FreeName();
  if (name.size() <= kInlineName) {
    memcpy(name_, name.data(), name.size());
    name_len_ = static_cast<uint8_t>(name.size());
    return;
  }
  uint32_t len = static_cast<uint32_t>(name.size());
  char* block = static_cast<char*>(malloc(sizeof(len) + len));
  if (!block) abort();  // as operator new would throw: the daemon cannot go on
  memcpy(block, &len, sizeof(len));
  memcpy(block + sizeof(len), name.data(), len);
  memcpy(name_, &block, sizeof(block));
  name_len_ = kHeapName;
}

// ---- The slab ----

// A chunk: this header, then kPerChunk nodes, in a mapping of kChunkBytes aligned to
// kChunkBytes. Free slots are known by the bitmap, never by anything written in them, so
// the pages of free slots can be given back (Trim) and read as zeros when used again;
// the lowest free slot is used first, so pages are touched in order as the chunk fills.
struct alignas(alignof(Inode)) InodeTable::Slab::Chunk {
  uint32_t id;
  uint32_t live = 0;                   // nodes in use
  bool open = false;                   // in open_
  uint64_t used[kPerChunk / 64] = {};  // slot i in use: bit i % 64 of used[i / 64]
  Inode* nodes() { return reinterpret_cast<Inode*>(this + 1); }
  bool Used(uint32_t slot) const { return used[slot / 64] >> (slot % 64) & 1; }
};

namespace {

constexpr size_t kChunkBytes = size_t{1} << 18;  // 256 KiB: a header and 4,096 nodes

// mmap gives page alignment; map twice the size and unmap the ends around an aligned one.
void* MapAligned() {
  void* raw =
      mmap(nullptr, 2 * kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + kChunkBytes - 1) & ~(kChunkBytes - 1);
  if (aligned > start) munmap(raw, aligned - start);
  uintptr_t end = start + 2 * kChunkBytes;
  if (end > aligned + kChunkBytes) {
    munmap(reinterpret_cast<void*>(aligned + kChunkBytes), end - aligned - kChunkBytes);
  }
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

InodeTable::Slab::~Slab() {
  for (Chunk* c : chunks_) {
    if (c) munmap(c, kChunkBytes);
  }
  if (spare_) munmap(spare_, kChunkBytes);
}

InodeTable::Slab::Chunk* InodeTable::Slab::NewChunk() {
  static_assert(sizeof(Chunk) % alignof(Inode) == 0);
  static_assert(sizeof(Chunk) + kPerChunk * sizeof(Inode) <= kChunkBytes);
  Chunk* c = spare_;
  spare_ = nullptr;
  if (!c) {
    void* mem = MapAligned();
    if (!mem) return nullptr;
    c = new (mem) Chunk;
    ++mapped_;
  }
  c->live = 0;
  memset(c->used, 0, sizeof(c->used));
  if (!free_ids_.empty()) {
    c->id = free_ids_.back();
    free_ids_.pop_back();
    chunks_[c->id] = c;
  } else {
    if (chunks_.size() >= UINT32_MAX / kPerChunk) {  // node indices are 32-bit
      spare_ = c;
      return nullptr;
    }
    c->id = static_cast<uint32_t>(chunks_.size());
    chunks_.push_back(c);
  }
  c->open = true;
  open_.push_back(c);
  return c;
}

Inode* InodeTable::Slab::New() {
  Chunk* c = open_.empty() ? NewChunk() : open_.back();
  if (!c) return nullptr;
  uint32_t word = 0;
  while (c->used[word] == ~uint64_t{0}) ++word;  // an open chunk has a free slot
  uint32_t bit = static_cast<uint32_t>(__builtin_ctzll(~c->used[word]));
  c->used[word] |= uint64_t{1} << bit;
  uint32_t slot = word * 64 + bit;
  if (++c->live == kPerChunk) {
    open_.pop_back();
    c->open = false;
  }
  return new (&c->nodes()[slot]) Inode;
}

void InodeTable::Slab::Delete(Inode* node) {
  auto* c = reinterpret_cast<Chunk*>(reinterpret_cast<uintptr_t>(node) & ~(kChunkBytes - 1));
  uint32_t slot = static_cast<uint32_t>(node - c->nodes());
  node->FreeName();  // the rest of a node needs no destruction (static_assert)
  c->used[slot / 64] &= ~(uint64_t{1} << (slot % 64));
  if (!c->open) {
    c->open = true;
    open_.push_back(c);
  }
  if (--c->live == 0) DropChunk(c);
}

// A chunk whose nodes are all free goes back to the kernel (or becomes the spare).
void InodeTable::Slab::DropChunk(Chunk* c) {
  open_.erase(std::find(open_.begin(), open_.end(), c));  // few chunks are open at once
  chunks_[c->id] = nullptr;
  free_ids_.push_back(c->id);
  if (!spare_) {
    spare_ = c;
    return;
  }
  munmap(c, kChunkBytes);
  --mapped_;
}

// Gives back the pages that hold only free slots, one madvise per run of them. The
// header's page stays (the bitmap is in it).
void InodeTable::Slab::TrimChunk(Chunk* c) {
  static const uintptr_t kPage = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t base = reinterpret_cast<uintptr_t>(c);
  const uintptr_t nodes = reinterpret_cast<uintptr_t>(c->nodes());
  uintptr_t run = 0;  // start of the current run of free pages; 0: none
  for (uintptr_t p = base + kPage; p <= base + kChunkBytes; p += kPage) {
    bool free = p < base + kChunkBytes;
    for (uintptr_t s = (p - nodes) / sizeof(Inode); free && s < kPerChunk; ++s) {
      if (nodes + s * sizeof(Inode) >= p + kPage) break;
      free = !c->Used(static_cast<uint32_t>(s));
    }
    if (free && !run) run = p;
    if (!free && run) {
      madvise(reinterpret_cast<void*>(run), p - run, MADV_DONTNEED);
      run = 0;
    }
  }
}

void InodeTable::Slab::Trim() {
  for (Chunk* c : chunks_) {
    if (c && c->live < kPerChunk) TrimChunk(c);
  }
  if (spare_) TrimChunk(spare_);
}

Inode* InodeTable::Slab::At(uint32_t index) const {
  return &chunks_[index / kPerChunk]->nodes()[index % kPerChunk];
}

uint32_t InodeTable::Slab::IndexOf(const Inode* node) const {
  auto* c = reinterpret_cast<Chunk*>(reinterpret_cast<uintptr_t>(node) & ~(kChunkBytes - 1));
  return c->id * kPerChunk + static_cast<uint32_t>(node - c->nodes());
}

// ---- The table ----

uint64_t InodeTable::KeyHash(int map, uint64_t dev, uint64_t ino) {
  // IndexHash mixes the result; sequential inode numbers stay apart.
  return ino ^ ((dev << 16 | static_cast<uint16_t>(map)) * 0xFF51AFD7ED558CCDull);
}

uint64_t InodeTable::Elems::Hash(uint32_t i) const {
  const Inode* n = slab->At(i);
  return KeyHash(n->map, n->dev, n->ino);
}

Inode* InodeTable::FindLocked(int map, uint64_t dev, uint64_t ino) const {
  uint32_t i = nodes_.Find(KeyHash(map, dev, ino), [&](uint32_t at) {
    const Inode* n = slab_.At(at);
    return n->ino == ino && n->dev == dev && n->map == map;
  });
  return i == IndexHash<Elems>::kNone ? nullptr : slab_.At(i);
}

void InodeTable::InsertLocked(Inode* node) {
  nodes_.Insert(slab_.IndexOf(node), KeyHash(node->map, node->dev, node->ino));
}

void InodeTable::EraseLocked(Inode* node) {
  nodes_.Erase(slab_.IndexOf(node), KeyHash(node->map, node->dev, node->ino));
}

namespace {

// Directories are parents of *at() calls; a file with several names cannot be found
// again by one name alone.
bool MustKeepFd(const struct stat& st) { return S_ISDIR(st.st_mode) || st.st_nlink > 1; }

bool DevFits(dev_t dev) { return dev <= UINT32_MAX; }

uint8_t TypeBits(mode_t mode) { return static_cast<uint8_t>((mode & S_IFMT) >> 12); }

// More references dropped than were counted: a bug in sptfs (a reply that was never
// counted, or a reference dropped twice), which could free a node the kernel still
// names. Loud in every build; a debug build stops at the bug. A release build keeps
// serving: the node goes as if its count had reached zero.
void LookupUnderflow(const Inode* node, uint64_t n) {
  std::string_view name = node->name();
  fprintf(stderr,
          "sptfs: BUG: lookup count underflow: dropping %llu reference(s) of inode %llu "
          "(dev %llu, name \"%.*s\") which has %llu\n",
          static_cast<unsigned long long>(n), static_cast<unsigned long long>(node->ino),
          static_cast<unsigned long long>(node->dev), static_cast<int>(name.size()), name.data(),
          static_cast<unsigned long long>(node->refs));
#ifndef NDEBUG
  abort();
#endif
}

}  // namespace

Inode* InodeTable::NewNode(int fd, int map, bool read_only) {
  Inode* node = slab_.New();
  if (!node) abort();  // setup: out of memory
  node->fd = fd;
  node->virt = fd < 0;
  node->map = static_cast<int16_t>(map);
  node->read_only = read_only || fd < 0;
  node->pinned = true;
  node->type_bits = TypeBits(S_IFDIR);
  struct stat st;
  if (fd >= 0 && fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0) {
    // A st_dev beyond 32 bits cannot come from Linux; truncated, every check of the
    // node against the backing store fails (ESTALE) instead of matching another device.
    if (!DevFits(st.st_dev))
      fprintf(stderr, "sptfs: st_dev %llx does not fit 32 bits\n",
              static_cast<unsigned long long>(st.st_dev));
    node->dev = static_cast<uint32_t>(st.st_dev);
    node->ino = st.st_ino;
    node->type_bits = TypeBits(st.st_mode);
  }
  return node;
}

InodeTable::~InodeTable() {
  nodes_.ForEach([&](uint32_t i) {
    Inode* node = slab_.At(i);
    if (node->fd >= 0) close(node->fd);
    node->FreeName();
  });
  for (Inode* node : virtuals_) node->FreeName();
}  // the slab unmaps the chunks

// Virtual directories are numbered down from the top of the inode number space, which
// backing file systems do not hand out (ext4's are 32-bit; btrfs reserves the top), so
// tools that tell files apart by (st_dev, st_ino) never take one for a backing file.
void InodeTable::AddVirtual(Inode* node) {
  node->ino = std::numeric_limits<ino_t>::max() - virtuals_.size();
  virtuals_.push_back(node);
}

Inode* InodeTable::MakeRoot(int fd, int map, bool read_only) {
  root_ = NewNode(fd, map, read_only);
  if (fd >= 0) held_fds_++;
  root_->refs = 1;  // the kernel's own lookup of the root: it never sends one
  if (fd < 0) {
    AddVirtual(root_);
  } else {
    InsertLocked(root_);
  }
  return root_;
}

Inode* InodeTable::AddPinned(Inode* parent, const std::string& name, int fd, int map,
                             bool read_only) {
  Inode* node = NewNode(fd, map, read_only);
  node->parent = parent;
  node->SetName(name);
  if (fd < 0) {
    AddVirtual(node);
  } else if (Inode* first = FindLocked(map, node->dev, node->ino)) {
    close(fd);  // the same directory pinned twice: keep the first
    slab_.Delete(node);
    node = first;
  } else {
    InsertLocked(node);
    held_fds_++;
  }
  PinnedOf(parent).overlay[name] = node;
  return node;
}

Inode* InodeTable::AddPinnedLink(Inode* parent, const std::string& name,
                                 const std::string& target) {
  Inode* node = NewNode(-1, -1, true);
  node->type_bits = TypeBits(S_IFLNK);
  node->parent = parent;
  node->SetName(name);
  AddVirtual(node);
  PinnedOf(node).link = target;
  PinnedOf(parent).overlay[name] = node;
  return node;
}

// Only pinned nodes have entries: the common lookup of an unpinned parent pays one test.
Inode* InodeTable::Overlay(const Inode* parent, std::string_view name) const {
  if (!parent->pinned) return nullptr;
  auto it = pinned_.find(parent);
  if (it == pinned_.end()) return nullptr;
  auto child = it->second.overlay.find(name);
  return child == it->second.overlay.end() ? nullptr : child->second;
}

const InodeTable::OverlayMap& InodeTable::OverlayOf(const Inode* parent) const {
  static const OverlayMap kNone;
  if (!parent->pinned) return kNone;
  auto it = pinned_.find(parent);
  return it == pinned_.end() ? kNone : it->second.overlay;
}

const std::string& InodeTable::LinkTarget(const Inode* node) const {
  static const std::string kNone;
  if (!node->is_virtual_link()) return kNone;
  auto it = pinned_.find(node);
  return it == pinned_.end() ? kNone : it->second.link;
}

Inode* InodeTable::Found(Inode* parent, std::string_view name, int fd, const struct stat& st) {
  if (!DevFits(st.st_dev)) {
    if (fd >= 0) close(fd);
    errno = EOVERFLOW;
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(mu_);
  Inode* node = FindLocked(parent->map, st.st_dev, st.st_ino);
  if (node && node->type_bits != TypeBits(st.st_mode)) {
    // Not the inode the node was made for: that one is gone (a node without fd does not
    // keep it) and its number was given to a new one behind the mount. The old node
    // leaves the index and serves only the kernel's old inode until forgotten; the new
    // inode gets its own node of its own type (else a directory taken for a file would
    // be skipped by VerifyPlace). Forgetting the old one later finds it in no chain.
    EraseLocked(node);
    node = nullptr;
  }
  if (node && node->parent != parent && !node->pinned && AncestorOfLocked(node, parent)) {
    if (fd >= 0) close(fd);  // the backing tree loops (a bind mount of an ancestor in it):
    errno = ELOOP;           // re-parented, the node would be its own ancestor
    return nullptr;
  }
  if (node) {
    if (node->fd < 0 && fd >= 0 && MustKeepFd(st)) {
      node->fd = fd;  // became a hard link: keep it reachable by fd from now on
      held_fds_++;
    } else if (fd >= 0) {
      close(fd);
    }
    RefLocked(node, 1);
    if (!node->pinned && (node->parent != parent || node->name() != name)) {
      SetParentLocked(node, parent, name);
    }
    return node;
  }
  node = slab_.New();
  if (!node) {
    if (fd >= 0) close(fd);
    errno = ENOMEM;
    return nullptr;
  }
  if (fd >= 0 && KeepsFdLocked(st)) {
    node->fd = fd;
    held_fds_++;
    if (!MustKeepFd(st)) {
      node->counted_fd = true;
      file_fds_++;
    }
  } else if (fd >= 0) {
    close(fd);
  }
  node->dev = static_cast<uint32_t>(st.st_dev);
  node->ino = st.st_ino;
  node->type_bits = TypeBits(st.st_mode);
  node->map = parent->map;
  node->read_only = parent->read_only;
  node->refs = 1;
  node->parent = parent;
  node->SetName(name);
  RefLocked(parent, 1);
  InsertLocked(node);
  return node;
}

void InodeTable::KeepBeforeUnlink(Inode* parent, const char* name) {
  struct stat st;
  if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Inode* node = FindLocked(parent->map, st.st_dev, st.st_ino);
    if (!node || node->fd >= 0) return;
  }
  int fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  Inode* node = FindLocked(parent->map, st.st_dev, st.st_ino);
  if (node && node->fd < 0) {
    node->fd = fd;
    held_fds_++;
  } else {
    close(fd);
  }
}

bool InodeTable::WantsFd(const struct stat& st) { return MustKeepFd(st); }

bool InodeTable::AdoptFd(Inode* node, int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (node->fd >= 0 || file_fds_ >= file_fd_budget_) return false;
  node->fd = fd;
  node->counted_fd = true;
  file_fds_++;
  held_fds_++;
  return true;
}

bool InodeTable::KeepsFdLocked(const struct stat& st) const {
  return MustKeepFd(st) || file_fds_ < file_fd_budget_;
}

void InodeTable::Ref(Inode* node, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  RefLocked(node, n);
}

void InodeTable::RefLocked(Inode* node, uint64_t n) {
  node->refs = static_cast<uint32_t>(std::min<uint64_t>(Inode::kMaxRefs, node->refs + n));
}

void InodeTable::Forget(Inode* node, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  UnrefLocked(node, n);
}

void InodeTable::Forget(const fuse_forget_data* forgets, size_t count) {
  for (size_t at = 0; at < count; at += kForgetChunk) {
    size_t end = std::min(count, at + kForgetChunk);
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = at; i < end; ++i) UnrefLocked(Get(forgets[i].ino), forgets[i].nlookup);
  }
}

void InodeTable::Moved(int map, dev_t dev, ino_t ino, Inode* parent, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  Inode* node = FindLocked(map, dev, ino);
  if (node && !node->pinned && !AncestorOfLocked(node, parent)) SetParentLocked(node, parent, name);
}

bool InodeTable::AncestorOfLocked(const Inode* node, const Inode* of) const {
  for (const Inode* n = of; n; n = n->parent) {
    if (n == node) return true;
  }
  return false;
}

void InodeTable::SetParentLocked(Inode* node, Inode* parent, std::string_view name) {
  Inode* old = node->parent;
  RefLocked(parent, 1);
  node->parent = parent;
  node->SetName(name);
  if (old) UnrefLocked(old, 1);
}

void InodeTable::UnrefLocked(Inode* node, uint64_t n) {
  while (node) {
    if (node->refs == Inode::kMaxRefs) return;  // saturated: the count is lost, keep it
    if (n > node->refs) LookupUnderflow(node, n);
    node->refs = node->refs > n ? static_cast<uint32_t>(node->refs - n) : 0;
    if (node->refs > 0 || node->pinned) return;
    EraseLocked(node);
    Inode* parent = node->parent;
    if (node->fd >= 0) {
      close(node->fd);
      held_fds_--;
    }
    if (node->counted_fd) file_fds_--;
    slab_.Delete(node);
    ++freed_since_trim_;
    node = parent;
    n = 1;
  }
}

std::string InodeTable::PathOf(const Inode* node, std::string_view child) const {
  std::vector<std::string_view> parts;
  size_t len = child.size() + 1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Inode* n = node; n && n->parent; n = n->parent) {
      parts.push_back(n->name());
      len += parts.back().size() + 1;
    }
    // Names of pinned nodes never change; others are copied while the lock is held.
    std::string path;
    path.reserve(len);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      path += '/';
      path += *it;
    }
    if (!child.empty()) {
      path += '/';
      path += child;
    }
    return path.empty() ? "/" : path;
  }
}

int InodeTable::VerifyPlace(const Inode* node) const {
  struct Link {
    Inode* parent;  // referenced until checked
    std::string name;
    uint32_t dev;
    ino_t ino;
  };
  if (node->pinned) return 0;  // set up before the mount and never moved: no lock needed
  std::vector<Link> links;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Inode* n = node; n->parent && !n->pinned; n = n->parent) {
      if (!n->is_dir()) continue;  // a file's own name is checked where it is opened
      const_cast<InodeTable*>(this)->RefLocked(n->parent, 1);
      links.push_back(Link{n->parent, std::string(n->name()), n->dev, n->ino});
    }
  }
  int err = 0;
  for (const Link& l : links) {
    struct stat st;
    if (fstatat(l.parent->fd, l.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        st.st_dev != l.dev || st.st_ino != l.ino) {
      err = ESTALE;
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const Link& l : links) const_cast<InodeTable*>(this)->UnrefLocked(l.parent, 1);
  return err;
}

int InodeTable::OpenPath(const Inode* node, int* fd, bool* owned) const {
  *owned = false;
  *fd = node->fd;
  if (node->fd >= 0) return 0;
  if (node->is_virtual()) return EPERM;
  std::string name;
  Inode* parent = ParentOf(node, &name);
  int f = openat(parent->fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int err = f < 0 ? errno : 0;
  struct stat st;
  if (!err && (fstatat(f, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 ||
               st.st_ino != node->ino || st.st_dev != node->dev)) {
    err = ESTALE;  // the name now holds another file (renamed or replaced behind us)
    close(f);
  }
  auto* self = const_cast<InodeTable*>(this);
  self->Forget(parent, 1);
  if (err) return err == ENOENT ? ESTALE : err;
  *fd = f;
  *owned = !self->AdoptFd(const_cast<Inode*>(node), f);
  return 0;
}

Inode* InodeTable::ParentOf(const Inode* node, std::string* name) const {
  std::lock_guard<std::mutex> lock(mu_);
  *name = node->name();
  const_cast<InodeTable*>(this)->RefLocked(node->parent, 1);  // keeps the parent (and its fd)
                                                              // alive while it is used
  return node->parent;
}

int InodeTable::Stat(const Inode* node, struct stat* st) const {
  if (node->fd >= 0) {
    return fstatat(node->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
  }
  std::string name;
  Inode* parent = ParentOf(node, &name);
  int err = fstatat(parent->fd, name.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
  const_cast<InodeTable*>(this)->Forget(parent, 1);
  if (!err && (st->st_ino != node->ino || st->st_dev != node->dev)) err = ESTALE;
  return err == ENOENT ? ESTALE : err;
}

// Never by name with the caller's flags: O_TRUNC (or a FIFO's open) would act on
// whatever the name holds now, before anyone checked it is the inode that was decided.
// The open goes through a verified O_PATH handle instead (as libfuse's passthrough_hp).
int InodeTable::OpenData(const Inode* node, int flags, int* fd) const {
  int path_fd;
  bool owned;
  if (int err = OpenPath(node, &path_fd, &owned)) return err;
  *fd = open(("/proc/self/fd/" + std::to_string(path_fd)).c_str(), flags);
  int err = *fd < 0 ? errno : 0;
  if (owned) close(path_fd);
  return err;
}

std::vector<std::pair<fuse_ino_t, std::string>> InodeTable::FdHolders(size_t max,
                                                                      size_t skip) const {
  std::vector<std::pair<fuse_ino_t, std::string>> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto holds = [&](const Inode* node) { return !node->pinned && node->fd >= 0 && node->parent; };
  size_t holders = 0;
  nodes_.ForEach([&](uint32_t i) { holders += holds(slab_.At(i)); });
  if (holders == 0) return out;
  skip %= holders;
  for (int pass = 0; pass < 2 && out.size() < max; ++pass) {
    size_t at = 0;
    nodes_.ForEach([&](uint32_t i) {
      const Inode* node = slab_.At(i);
      if (!holds(node)) return;
      bool wanted = pass == 0 ? at >= skip : at < skip;
      ++at;
      if (wanted && out.size() < max) out.emplace_back(IdOf(node->parent), node->name());
    });
  }
  return out;
}

bool InodeTable::TakeTrimHint() {
  std::lock_guard<std::mutex> lock(mu_);
  if (freed_since_trim_ < kTrimNodes || freed_since_trim_ < nodes_.size()) return false;
  freed_since_trim_ = 0;
  slab_.Trim();
  return true;
}

size_t InodeTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.size();
}

size_t InodeTable::chunks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slab_.chunks();
}

size_t InodeTable::bucket_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.bytes();
}

}  // namespace sptfs
