#include "policy/compiler.h"

#include <gtest/gtest.h>

#include "policy/test_util.h"

namespace sptfs {
namespace {

using testing::CompileOrDie;
using testing::Dom;
using testing::Set;

MemoryTree LockerTree(const std::string& target) {
  MemoryTree t;
  t.AddDirectory("/vmfs/volumes/ds1/productLocker/vmtools");
  t.AddDirectory("/vmfs/volumes/ds2/productLocker/vmtools");
  t.AddSymlink("/productLocker", target);
  return t;
}

TEST(Compiler, RulesCompileToTheLinkTarget) {
  MemoryTree tree = LockerTree("/vmfs/volumes/ds1/productLocker");
  auto p = CompileOrDie(Set({Dom("vm", 4, {"-r /productLocker r"})}), tree);
  const CompiledDomain* d = p->FindDomain(4);
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->path_rules.size(), 1u);
  EXPECT_EQ(d->path_rules[0].source.path, "/productLocker");
  EXPECT_EQ(d->path_rules[0].canonical, "/vmfs/volumes/ds1/productLocker");
  EXPECT_TRUE(d->path_rules[0].fully_resolved);
  EXPECT_NE(d->MatchPath("/vmfs/volumes/ds1/productLocker/vmtools/windows.iso"), nullptr);
  EXPECT_EQ(d->MatchPath("/productLocker/vmtools/windows.iso"), nullptr);
}

TEST(Compiler, LinkRepointedBetweenCompilations) {
  PolicySet set = Set({Dom("vm", 4, {"-r /productLocker r"})});
  MemoryTree tree = LockerTree("/vmfs/volumes/ds1/productLocker");
  auto before = CompileOrDie(set, tree);
  tree.AddSymlink("/productLocker", "/vmfs/volumes/ds2/productLocker");  // re-pointed
  const std::string iso = "/vmfs/volumes/ds2/productLocker/vmtools/windows.iso";
  EXPECT_EQ(before->FindDomain(4)->MatchPath(iso), nullptr);  // old snapshot: old target
  std::vector<StaleRule> stale = FindStaleRules(*before, tree);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].domain, 4u);
  EXPECT_EQ(stale[0].rule->canonical, "/vmfs/volumes/ds1/productLocker");
  EXPECT_EQ(stale[0].now_resolves_to, "/vmfs/volumes/ds2/productLocker");
  auto after = CompileOrDie(set, tree, nullptr, 2);  // the reload
  EXPECT_NE(after->FindDomain(4)->MatchPath(iso), nullptr);
  EXPECT_TRUE(FindStaleRules(*after, tree).empty());
  EXPECT_EQ(after->generation(), 2u);
}

TEST(Compiler, RelativeAndNestedLinks) {
  MemoryTree tree;
  tree.AddDirectory("/usr/lib");
  tree.AddDirectory("/locker/packages/vmtoolsRepo/vmtools");
  tree.AddSymlink("/lib", "usr/lib");                                 // relative
  tree.AddSymlink("/productLocker", "/locker/packages/vmtoolsRepo");  // absolute
  tree.AddSymlink("/vmimages", "/store");                             // nested: a link to
  tree.AddSymlink("/store", "productLocker/vmtools");                 // a link via a link
  auto p = CompileOrDie(Set({Dom("vm", 4, {"-r /lib rx", "-r /vmimages r"})}), tree);
  const CompiledDomain* d = p->FindDomain(4);
  EXPECT_EQ(d->path_rules[0].canonical, "/usr/lib");
  EXPECT_EQ(d->path_rules[1].canonical, "/locker/packages/vmtoolsRepo/vmtools");
  EXPECT_TRUE(d->path_rules[1].fully_resolved);
  EXPECT_EQ(d->MatchPath("/usr/lib/libc.so.6")->source.path, "/lib");
  EXPECT_EQ(d->MatchPath("/locker/packages/vmtoolsRepo/vmtools/windows.iso")->source.path,
            "/vmimages");
}

TEST(Compiler, PartialResolutionWarnsOncePerPath) {
  MemoryTree tree;
  tree.AddDirectory("/tmp");
  std::vector<std::string> warnings;
  auto p = CompileOrDie(
      Set({Dom("a", 1, {"-r /tmp rw", "-r /missing/dir r"}), Dom("b", 2, {"-r /missing/dir r"})}),
      tree, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "Partially resolved path: /missing/dir");
  EXPECT_FALSE(p->FindDomain(1)->path_rules[1].fully_resolved);
  EXPECT_TRUE(p->FindDomain(1)->path_rules[0].fully_resolved);
  EXPECT_EQ(p->FindDomain(1)->path_rules[1].canonical, "/missing/dir");
}

TEST(Compiler, LoopInARulePathFailsWithFileAndLine) {
  MemoryTree tree;
  tree.AddSymlink("/loop", "/loop");
  PolicySet set = Set({Dom("a", 1, {"-r /loop/x r"})});
  set.domains[1].rules[0].where = {"domains/a.toml", 9};
  std::shared_ptr<const CompiledPolicy> out;
  Status s = Compile(set, tree, 1, &out, nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("domains/a.toml:9: symlink loop", 0), 0u) << s.message();
  EXPECT_EQ(out, nullptr);
}

TEST(Compiler, DomainsInIdOrderLabelsInNameOrder) {
  MemoryTree tree;
  auto p = CompileOrDie(Set({Dom("z", 30, {}), Dom("m", 2, {})}), tree);
  ASSERT_EQ(p->domains().size(), 3u);
  EXPECT_EQ(p->domains()[0].id, 0u);
  EXPECT_EQ(p->domains()[1].name, "m");
  EXPECT_EQ(p->domains()[2].name, "z");
  EXPECT_EQ(p->labels().front().name, "appObj");
  EXPECT_EQ(p->labels().back().name, "unlabeled");
  EXPECT_EQ(p->FindLabel("keyObj"), 11u);
  EXPECT_FALSE(p->FindLabel("nope").has_value());
  EXPECT_EQ(p->LabelName(10), "appObj");
  EXPECT_EQ(p->LabelName(99), "");
  EXPECT_EQ(p->default_domain(), 0u);
}

TEST(Compiler, TransitionsCapabilitiesAndObjectPerms) {
  MemoryTree tree;
  auto p = CompileOrDie(Set({Dom("t", 3, {}), Dom("a", 1,
                                                  {"-d appObj t file_exec grant", "-o keyObj r",
                                                   "-o keyObj w", "-c file_relabel grant"})}),
                        tree);
  const CompiledDomain* a = p->FindDomain("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->transitions.at(10), 3u);
  EXPECT_EQ(a->object_perms.at(10), kPermExec);
  EXPECT_EQ(a->object_perms.at(11), kPermRead | kPermWrite);
  EXPECT_TRUE(a->HasCapability("file_relabel"));
  EXPECT_FALSE(a->HasCapability("policy_admin"));
}

TEST(Compiler, DefaultLabelsResolveAndLongestPrefixWins) {
  MemoryTree tree;
  tree.AddDirectory("/usr/bin");
  tree.AddSymlink("/bin", "usr/bin");
  PolicySet set = Set({});
  set.default_labels = {{"/bin", "appObj", {}}, {"/bin/keys", "keyObj", {}}};
  auto p = CompileOrDie(set, tree);
  EXPECT_EQ(p->default_labels()[0].path, "/usr/bin");
  EXPECT_EQ(p->DefaultLabelFor("/usr/bin/x"), 10u);
  EXPECT_EQ(p->DefaultLabelFor("/usr/bin/keys/k"), 11u);
  EXPECT_EQ(p->DefaultLabelFor("/usr/binary"), kUnlabeledId);  // whole components only
  EXPECT_EQ(p->DefaultLabelFor("/etc"), kUnlabeledId);
}

TEST(Compiler, SameCanonicalPathLaterRuleWins) {
  MemoryTree tree;
  tree.AddDirectory("/run");
  tree.AddDirectory("/var");
  tree.AddSymlink("/var/run", "/run");
  auto p = CompileOrDie(Set({Dom("a", 1, {"-r /run r", "-r /var/run rw"})}), tree);
  const CompiledPathRule* r = p->FindDomain(1)->MatchPath("/run/x");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->source.path, "/var/run");
}

}  // namespace
}  // namespace sptfs
