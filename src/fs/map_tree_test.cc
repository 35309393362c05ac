#include "fs/map_tree.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "policy/test_util.h"

namespace sptfs {
namespace {

// A host-like layout: root/ (the tree's "/") and usr/bin/true, mapped at "/" and "/usr",
// plus a map at /bin that is a tree symlink to usr/bin (tree_setup.h OpenMap::link).
class MapTreeLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/maptreeXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/root");
    std::filesystem::create_directories(dir_ + "/usr/bin");
    close(open((dir_ + "/usr/bin/true").c_str(), O_CREAT | O_WRONLY, 0755));
    root_ = open((dir_ + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    usr_ = open((dir_ + "/usr").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  void TearDown() override {
    close(root_);
    close(usr_);
    std::filesystem::remove_all(dir_);
  }
  MapTree Tree() const { return MapTree({{"/", root_}, {"/bin", -1, "usr/bin"}, {"/usr", usr_}}); }
  std::string dir_;
  int root_ = -1, usr_ = -1;
};

TEST_F(MapTreeLinkTest, TheLinkMapIsASymlinkAndNothingIsBelowIt) {
  MapTree tree = Tree();
  TreeView::Entry e = tree.Lookup("/bin");
  EXPECT_EQ(e.kind, TreeView::Kind::kSymlink);
  EXPECT_EQ(e.link_target, "usr/bin");
  EXPECT_EQ(tree.Lookup("/bin/true").kind, TreeView::Kind::kMissing);
  EXPECT_EQ(tree.Lookup("/usr/bin/true").kind, TreeView::Kind::kFile);
  EXPECT_EQ(tree.WatchPath("/bin"), "");
}

TEST_F(MapTreeLinkTest, RulesAndDefaultLabelsThroughTheLinkCompileToUsr) {
  MapTree tree = Tree();
  PolicySet set = testing::Set({testing::Dom("d", 4, {"-r /bin rx", "-r /usr/bin/true "})});
  set.default_labels = {{"/bin/true", "appObj", {}}};
  auto p = testing::CompileOrDie(set, tree);
  const CompiledDomain* d = p->FindDomain(4);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->path_rules[0].canonical, "/usr/bin");
  // One rule for both names: the longest one covering /usr/bin/true is the second.
  EXPECT_EQ(d->MatchPath("/usr/bin/true")->source.path, "/usr/bin/true");
  EXPECT_EQ(p->DefaultLabelFor("/usr/bin/true"), 10u);
}

}  // namespace
}  // namespace sptfs
