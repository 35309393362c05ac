#include "policy/stale.h"

#include <gtest/gtest.h>

#include "policy/test_util.h"

namespace sptfs {
namespace {

using testing::CompileOrDie;
using testing::Dom;
using testing::Set;

// ESXi's shape: /productLocker -> /vmfs/volumes/datastore1/productLocker, and the
// datastore's name a link to its uuid (a chain of two links).
MemoryTree ChainTree() {
  MemoryTree t;
  t.AddDirectory("/locker/packages/vmtoolsRepo/vmtools");
  t.AddDirectory("/vmfs/volumes/uuid-1/productLocker/vmtools");
  t.AddDirectory("/vmfs/volumes/uuid-2/productLocker/vmtools");
  t.AddSymlink("/vmfs/volumes/datastore1", "uuid-1");
  t.AddSymlink("/productLocker", "/vmfs/volumes/datastore1/productLocker");
  t.AddSymlink("/vmimages/tools-isoimages", "/productLocker/vmtools");
  return t;
}

TEST(ResolveLinks, EveryLinkOfANestedChainIsRecorded) {
  MemoryTree tree = ChainTree();
  Resolution r;
  ASSERT_TRUE(ResolvePath(tree, "/vmimages/tools-isoimages/windows.iso", &r).ok());
  EXPECT_EQ(r.canonical, "/vmfs/volumes/uuid-1/productLocker/vmtools/windows.iso");
  EXPECT_EQ(r.links, (std::vector<std::string>{"/vmimages/tools-isoimages", "/productLocker",
                                               "/vmfs/volumes/datastore1"}));
  ASSERT_TRUE(ResolvePath(tree, "/locker/packages", &r).ok());
  EXPECT_TRUE(r.links.empty());
}

TEST(ResolveLinks, ALinkMetTwiceIsListedOnce) {
  MemoryTree tree;
  tree.AddDirectory("/real");
  tree.AddSymlink("/a", "/real");
  tree.AddSymlink("/b", "/a/../a");
  Resolution r;
  ASSERT_TRUE(ResolvePath(tree, "/b", &r).ok());
  EXPECT_EQ(r.canonical, "/real");
  EXPECT_EQ(r.links, (std::vector<std::string>{"/b", "/a"}));
}

TEST(CompiledLinks, RulesKeepTheirLinksAndTheirDirectories) {
  MemoryTree tree = ChainTree();
  auto p = CompileOrDie(Set({Dom("vm", 4, {"-r /productLocker r", "-r /tmp rw"})}), tree);
  const CompiledDomain* d = p->FindDomain(4);
  EXPECT_EQ(d->path_rules[0].links,
            (std::vector<std::string>{"/productLocker", "/vmfs/volumes/datastore1"}));
  EXPECT_TRUE(d->path_rules[1].links.empty());
  EXPECT_EQ(LinkDirectories(*p), (std::set<std::string>{"/", "/vmfs/volumes"}));
}

TEST(StaleTracker, RepointingTheOuterLinkReportsOnceNamingRuleAndDomains) {
  MemoryTree tree = ChainTree();
  auto p = CompileOrDie(Set({Dom("vm", 4, {"-r /productLocker r"}),
                             Dom("other", 5, {"-r /productLocker r", "-r /tmp rw"})}),
                        tree);
  StaleTracker t;
  t.Reset(p);
  EXPECT_TRUE(t.Recheck(tree).empty());
  tree.AddSymlink("/productLocker", "/locker/packages/vmtoolsRepo");
  std::vector<StaleChange> c = t.Recheck(tree);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].rule, "-r /productLocker r");
  EXPECT_EQ(c[0].compiled, "/vmfs/volumes/uuid-1/productLocker");
  EXPECT_EQ(c[0].now, "/locker/packages/vmtoolsRepo");
  EXPECT_EQ(c[0].domains, (std::vector<std::string>{"vm(4)", "other(5)"}));
  EXPECT_EQ(c[0].where, (std::vector<std::string>{"test.toml:1", "test.toml:1"}));
  EXPECT_TRUE(t.Recheck(tree).empty());  // the same state again: nothing new
}

TEST(StaleTracker, RepointingTheInnerLinkOfAChainIsCaught) {
  MemoryTree tree = ChainTree();
  auto p = CompileOrDie(Set({Dom("vm", 4, {"-r /productLocker r"})}), tree);
  StaleTracker t;
  t.Reset(p);
  tree.AddSymlink("/vmfs/volumes/datastore1", "uuid-2");
  std::vector<StaleChange> c = t.Recheck(tree);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].now, "/vmfs/volumes/uuid-2/productLocker");
  EXPECT_EQ(t.WatchDirectories(), (std::set<std::string>{"/", "/vmfs/volumes"}));
}

TEST(StaleTracker, MovingBackIsSilentAndAMoveAfterThatReportsAgain) {
  MemoryTree tree = ChainTree();
  auto p = CompileOrDie(Set({Dom("vm", 4, {"-r /productLocker r"})}), tree);
  StaleTracker t;
  t.Reset(p);
  tree.AddSymlink("/productLocker", "/locker/packages/vmtoolsRepo");
  EXPECT_EQ(t.Recheck(tree).size(), 1u);
  tree.AddSymlink("/productLocker", "/vmfs/volumes/datastore1/productLocker");  // back
  EXPECT_TRUE(t.Recheck(tree).empty());
  tree.Remove("/productLocker");  // removed: resolves to the bare path, partially
  std::vector<StaleChange> c = t.Recheck(tree);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].now, "/productLocker");
}

TEST(StaleTracker, ANewTargetsOwnLinksAreWatched) {
  MemoryTree tree = ChainTree();
  tree.AddDirectory("/store/real");
  tree.AddSymlink("/store/alias", "real");
  auto p = CompileOrDie(Set({Dom("vm", 4, {"-r /productLocker r"})}), tree);
  StaleTracker t;
  t.Reset(p);
  tree.AddSymlink("/productLocker", "/store/alias");
  ASSERT_EQ(t.Recheck(tree).size(), 1u);
  EXPECT_EQ(t.WatchDirectories(), (std::set<std::string>{"/", "/store", "/vmfs/volumes"}));
}

TEST(StaleTracker, ALevelChangeDoesNotRepeatTheRecordAReloadStartsOver) {
  MemoryTree tree = ChainTree();
  PolicySet set = Set({Dom("vm", 4, {"-r /productLocker r"})});
  auto p = CompileOrDie(set, tree);
  StaleTracker t;
  t.Reset(p);
  tree.AddSymlink("/productLocker", "/locker/packages/vmtoolsRepo");
  ASSERT_EQ(t.Recheck(tree).size(), 1u);
  t.Reset(p->WithLevel(4, Level::kWarning));
  EXPECT_TRUE(t.Recheck(tree).empty());
  t.Reset(CompileOrDie(set, tree, nullptr, 3));  // the reload: compiled to the new target
  EXPECT_TRUE(t.Recheck(tree).empty());
  tree.AddSymlink("/productLocker", "/vmfs/volumes/datastore1/productLocker");
  EXPECT_EQ(t.Recheck(tree).size(), 1u);
}

TEST(StaleTracker, ALoopIsReportedAsSuch) {
  MemoryTree tree = ChainTree();
  auto p = CompileOrDie(Set({Dom("vm", 4, {"-r /productLocker r"})}), tree);
  StaleTracker t;
  t.Reset(p);
  tree.AddSymlink("/productLocker", "/productLocker");
  std::vector<StaleChange> c = t.Recheck(tree);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].now, "(symlink loop)");
}

}  // namespace
}  // namespace sptfs
