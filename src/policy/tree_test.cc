#include "policy/tree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "policy/test_util.h"

namespace sptfs {
namespace {

Resolution Resolve(const TreeView& tree, std::string_view path) {
  Resolution r;
  Status s = ResolvePath(tree, path, &r);
  EXPECT_TRUE(s.ok()) << s.message();
  return r;
}

TEST(ResolvePath, PlainPathsAndNormalisation) {
  MemoryTree t;
  t.AddFile("/usr/lib/libc.so");
  EXPECT_EQ(Resolve(t, "/usr/lib/libc.so").canonical, "/usr/lib/libc.so");
  EXPECT_TRUE(Resolve(t, "/usr/lib/libc.so").complete);
  EXPECT_EQ(Resolve(t, "//usr/./lib/../lib/").canonical, "/usr/lib");
  EXPECT_EQ(Resolve(t, "/../../usr").canonical, "/usr");  // .. never climbs above /
  EXPECT_EQ(Resolve(t, "/").canonical, "/");
}

TEST(ResolvePath, AbsoluteLinkIsReadFromTheTreeRoot) {
  MemoryTree t;
  t.AddDirectory("/vmfs/volumes/ds1/productLocker");
  t.AddSymlink("/productLocker", "/vmfs/volumes/ds1/productLocker");
  Resolution r = Resolve(t, "/productLocker/vmtools/windows.iso");
  EXPECT_EQ(r.canonical, "/vmfs/volumes/ds1/productLocker/vmtools/windows.iso");
  EXPECT_FALSE(r.complete);  // vmtools does not exist
}

TEST(ResolvePath, RelativeAndNestedLinks) {
  MemoryTree t;
  t.AddDirectory("/usr/lib");
  t.AddSymlink("/lib", "usr/lib");                 // relative to /
  t.AddSymlink("/usr/lib/current", "../share/x");  // relative with ..
  t.AddDirectory("/usr/share/x");
  t.AddSymlink("/a", "/b");  // a -> b -> lib -> usr/lib
  t.AddSymlink("/b", "lib");
  EXPECT_EQ(Resolve(t, "/lib").canonical, "/usr/lib");
  EXPECT_EQ(Resolve(t, "/lib/current").canonical, "/usr/share/x");
  EXPECT_EQ(Resolve(t, "/a/current/f").canonical, "/usr/share/x/f");
  EXPECT_TRUE(Resolve(t, "/a/current").complete);
  EXPECT_EQ(Resolve(t, "/lib/../etc").canonical, "/usr/etc");  // .. after the link target
}

TEST(ResolvePath, MissingComponentsArePartial) {
  MemoryTree t;
  t.AddFile("/etc/passwd");
  Resolution r = Resolve(t, "/nope/x/../y");
  EXPECT_EQ(r.canonical, "/nope/y");
  EXPECT_FALSE(r.complete);
  Resolution under_file = Resolve(t, "/etc/passwd/x");
  EXPECT_FALSE(under_file.complete);
  EXPECT_EQ(under_file.canonical, "/etc/passwd/x");
}

TEST(ResolvePath, LoopsFail) {
  MemoryTree t;
  t.AddSymlink("/a", "/b");
  t.AddSymlink("/b", "/a");
  t.AddSymlink("/self", "self");
  Resolution r;
  EXPECT_EQ(ResolvePath(t, "/a/x", &r).code(), Status::Code::kInvalid);
  Status s = ResolvePath(t, "/self", &r);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("symlink loop"), std::string::npos);
}

TEST(ResolvePath, FortyLinksAreFine) {
  MemoryTree t;
  t.AddDirectory("/end");
  for (int i = 0; i < 40; ++i) {
    t.AddSymlink("/l" + std::to_string(i), i == 39 ? "/end" : "/l" + std::to_string(i + 1));
  }
  EXPECT_EQ(Resolve(t, "/l0").canonical, "/end");
}

TEST(MemoryTree, ReplaceAndRemove) {
  MemoryTree t;
  t.AddSymlink("/l", "/a");
  t.AddSymlink("/l", "/b");
  EXPECT_EQ(t.Lookup("/l").link_target, "/b");
  t.AddFile("/d/e/f");
  t.Remove("/d");
  EXPECT_EQ(t.Lookup("/d/e/f").kind, TreeView::Kind::kMissing);
  EXPECT_EQ(t.Lookup("/d").kind, TreeView::Kind::kMissing);
  EXPECT_EQ(t.Lookup("/").kind, TreeView::Kind::kDirectory);
}

TEST(DiskTree, ReadsUnderItsRoot) {
  testing::TempDir dir;
  dir.Write("vmfs/volumes/ds1/productLocker/vmtools/windows.iso", "iso");
  ASSERT_EQ(symlink("/vmfs/volumes/ds1/productLocker", (dir.path() + "/productLocker").c_str()), 0);
  ASSERT_EQ(symlink("vmfs", (dir.path() + "/rel").c_str()), 0);
  DiskTree tree(dir.path());
  EXPECT_EQ(tree.Lookup("/productLocker").kind, TreeView::Kind::kSymlink);
  EXPECT_EQ(tree.Lookup("/productLocker").link_target, "/vmfs/volumes/ds1/productLocker");
  EXPECT_EQ(tree.Lookup("/vmfs").kind, TreeView::Kind::kDirectory);
  EXPECT_EQ(tree.Lookup("/nothing").kind, TreeView::Kind::kMissing);
  Resolution r = Resolve(tree, "/productLocker/vmtools/windows.iso");
  EXPECT_EQ(r.canonical, "/vmfs/volumes/ds1/productLocker/vmtools/windows.iso");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(Resolve(tree, "/rel/volumes").canonical, "/vmfs/volumes");
}

TEST(LiteralTree, KeepsPathsAsWritten) {
  LiteralTree t;
  Resolution r = Resolve(t, "/var/run/../run/x");
  EXPECT_EQ(r.canonical, "/var/run/x");
  EXPECT_TRUE(r.complete);
}

}  // namespace
}  // namespace sptfs
