#include "policy/policy_diff.h"

#include <gtest/gtest.h>

#include "policy/test_util.h"

namespace sptfs {
namespace {

using testing::CompileOrDie;
using testing::Dom;
using testing::Set;

MemoryTree Locker(const std::string& target) {
  MemoryTree t;
  t.AddDirectory("/locker/packages/vmtoolsRepo");
  t.AddDirectory("/vmfs/volumes/u1/productLocker");
  t.AddSymlink("/productLocker", target);
  return t;
}

TEST(PolicyDiff, NothingChangesSaysSo) {
  MemoryTree tree = Locker("/locker/packages/vmtoolsRepo");
  PolicySet set = Set({Dom("vm", 4, {"-r /productLocker r", "-r /tmp rw"})});
  bool changed = true;
  EXPECT_EQ(FormatPolicyDiff(*CompileOrDie(set, tree), *CompileOrDie(set, tree), &changed),
            "no changes\n");
  EXPECT_FALSE(changed);
}

TEST(PolicyDiff, AMovedRuleShowsOldAndNewCompiledPath) {
  MemoryTree tree = Locker("/locker/packages/vmtoolsRepo");
  PolicySet set = Set({Dom("globalVMDom", 4, {"-r /productLocker r", "-r /tmp rw"})});
  auto running = CompileOrDie(set, tree);
  tree.AddSymlink("/productLocker", "/vmfs/volumes/u1/productLocker");
  bool changed = false;
  EXPECT_EQ(
      FormatPolicyDiff(*running, *CompileOrDie(set, tree), &changed),
      "globalVMDom (4):\n"
      "  -r /productLocker r: /locker/packages/vmtoolsRepo → /vmfs/volumes/u1/productLocker\n");
  EXPECT_TRUE(changed);
}

TEST(PolicyDiff, RulesAddedRemovedLevelsDomainsAndLabels) {
  MemoryTree tree;
  auto a = CompileOrDie(Set({Dom("vm", 4, {"-r /tmp rw", "-r /etc r"}), Dom("old", 7, {})}), tree);
  PolicySet next = Set({Dom("vm", 4, {"-r /tmp rw", "-r /etc rw"}, Level::kWarning),
                        Dom("new", 8, {"-c file_relabel grant"})});
  next.labels.push_back({"extraObj", 12, {}});
  bool changed = false;
  std::string diff = FormatPolicyDiff(*a, *CompileOrDie(next, tree), &changed);
  EXPECT_TRUE(changed);
  EXPECT_EQ(diff,
            "vm (4):\n"
            "  level: enforcing → warning\n"
            "  + -r /etc rw\n"
            "  - -r /etc r\n"
            "- domain old (7)\n"
            "+ domain new (8), level enforcing\n"
            "  + -c file_relabel grant\n"
            "labels:\n"
            "  + extraObj 12\n");
}

}  // namespace
}  // namespace sptfs
