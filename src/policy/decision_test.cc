#include "policy/decision.h"

#include <gtest/gtest.h>

#include "policy/test_util.h"

namespace sptfs {
namespace {

using testing::CompileOrDie;
using testing::Dom;
using testing::Set;

constexpr LabelId kApp = 10, kKey = 11;
constexpr Perms R = kPermRead, W = kPermWrite, X = kPermExec;

class DecisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ =
        CompileOrDie(Set({Dom("vm", 4,
                              {"-r /var/run rw", "-r /var/run/inetd.conf ", "-r /bin/vmx rx",
                               "-r /etc r", "-o keyObj r", "-d appObj app file_exec grant"}),
                          Dom("app", 2, {"-r / r"}), Dom("warn", 5, {"-r /tmp r"}, Level::kWarning),
                          Dom("off", 6, {}, Level::kDisabled)}),
                     tree_);
  }
  Decision D(DomainId d, std::string_view path, Perms want, LabelId label = kUnlabeledId) {
    return Decide(*policy_, d, path, label, want);
  }
  MemoryTree tree_;
  std::shared_ptr<const CompiledPolicy> policy_;
};

TEST_F(DecisionTest, LongestPrefixWins) {
  Decision d = D(4, "/var/run/vmware/x.pid", R | W);
  EXPECT_TRUE(d.allowed());
  EXPECT_FALSE(d.record);
  ASSERT_NE(d.path_rule, nullptr);
  EXPECT_EQ(d.path_rule->source.path, "/var/run");
  EXPECT_EQ(d.granted, R | W);
  EXPECT_FALSE(D(4, "/var/run/x", X).allowed());
}

TEST_F(DecisionTest, SubtreeWideningFindsADeniedChild) {
  const CompiledDomain* vm = policy_->FindDomain(4);
  // /etc/run would give only r (no wider than rw at the top), but the inetd.conf
  // carve-out (no access) would become readable.
  auto w = FindSubtreeWidening(*vm, "/var/run", "/etc/run");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->below, "inetd.conf");
  EXPECT_EQ(w->wider, R);
  // Within /var/run, away from the carve-out: nothing below widens.
  EXPECT_FALSE(FindSubtreeWidening(*vm, "/var/run/vmware", "/var/run/inetd.conf.d").has_value());
  // The carve-out only matches whole components.
  EXPECT_FALSE(FindSubtreeWidening(*vm, "/var/run/inetd", "/var/run/x").has_value());
}

TEST_F(DecisionTest, SubtreeWideningComparesEveryRuleBelowBothEnds) {
  auto policy = CompileOrDie(
      Set({Dom("d", 7, {"-r /a rw", "-r /a/secret ", "-r /b rw", "-r /b/ro/x r", "-r /c rw"})}),
      tree_);
  const CompiledDomain* d = policy->FindDomain(7);
  auto w = FindSubtreeWidening(*d, "/a", "/c/a");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->below, "secret");
  EXPECT_EQ(w->wider, R | W);
  // A rule below the destination narrows, never widens: /b/ro/x gets r where /c/ro/x had rw.
  EXPECT_FALSE(FindSubtreeWidening(*d, "/c", "/b").has_value());
  // ... and in the other direction it is what widens.
  auto back = FindSubtreeWidening(*d, "/b", "/c");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->below, "ro/x");
  EXPECT_EQ(back->wider, W);
  // From a no-access directory to an rw one: the top itself widens.
  ASSERT_TRUE(FindSubtreeWidening(*d, "/a/secret", "/a/s2").has_value());
  EXPECT_EQ(FindSubtreeWidening(*d, "/a/secret", "/a/s2")->below, "");
  EXPECT_FALSE(FindSubtreeWidening(*d, "/c/x", "/a/x").has_value());
}

TEST_F(DecisionTest, EmptyPermsCarveOut) {
  Decision d = D(4, "/var/run/inetd.conf", R);
  EXPECT_FALSE(d.allowed());
  EXPECT_TRUE(d.record);
  ASSERT_NE(d.path_rule, nullptr);
  EXPECT_EQ(d.path_rule->source.path, "/var/run/inetd.conf");
  EXPECT_EQ(d.reason, "rule");
  EXPECT_FALSE(D(4, "/var/run/inetd.conf/below", R).allowed());
  EXPECT_TRUE(D(4, "/var/run/inetd.confx", R).allowed());  // whole components only
}

TEST_F(DecisionTest, NoRuleMeansNoAccess) {
  Decision d = D(4, "/home/user", R);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.path_rule, nullptr);
  EXPECT_EQ(d.reason, "no rule");
  EXPECT_EQ(d.granted, kPermNone);
  EXPECT_FALSE(D(4, "/bin/vmx-debug", X).allowed());  // not under /bin/vmx
  EXPECT_TRUE(D(4, "/bin/vmx", X).allowed());
  EXPECT_TRUE(D(2, "/anything/at/all", R).allowed());  // "-r / r"
}

TEST_F(DecisionTest, LabelIntersection) {
  Decision d = D(4, "/etc/ssl/key.pem", R, kKey);  // /etc r, -o keyObj r
  EXPECT_TRUE(d.allowed());
  EXPECT_FALSE(d.label_limited);
  Decision w = D(4, "/var/run/key", W, kKey);  // /var/run rw but keyObj only r
  EXPECT_FALSE(w.allowed());
  EXPECT_TRUE(w.label_limited);
  EXPECT_EQ(w.reason, "label");
  EXPECT_EQ(w.granted, R);
  EXPECT_FALSE(D(2, "/etc/x", R, kKey).allowed());  // app has no -o keyObj rule
  EXPECT_FALSE(D(4, "/etc/x", R, 999).allowed());   // a label the policy does not know
}

TEST_F(DecisionTest, TransitionCountsAsExec) {
  EXPECT_TRUE(D(4, "/bin/vmx", X, kApp).allowed());   // -d appObj ... gives x on appObj
  EXPECT_FALSE(D(4, "/bin/vmx", R, kApp).allowed());  // but not r
  EXPECT_FALSE(D(4, "/etc/app", X, kApp).allowed());  // -r still has to grant x
}

TEST_F(DecisionTest, Levels) {
  Decision warn = D(5, "/tmp/x", W);
  EXPECT_TRUE(warn.allowed());
  EXPECT_TRUE(warn.warning);
  EXPECT_TRUE(warn.record);
  Decision fine = D(5, "/tmp/x", R);
  EXPECT_TRUE(fine.allowed());
  EXPECT_FALSE(fine.warning);
  EXPECT_FALSE(fine.record);
  Decision off = D(6, "/anything", R | W | X);
  EXPECT_TRUE(off.allowed());
  EXPECT_FALSE(off.record);
  EXPECT_EQ(off.reason, "disabled");
}

TEST_F(DecisionTest, UnconfinedAndUnknownDomain) {
  Decision super = D(0, "/etc/shadow", R | W | X, kKey);
  EXPECT_TRUE(super.allowed());
  EXPECT_FALSE(super.record);
  EXPECT_EQ(super.reason, "unconfined");
  Decision unknown = D(77, "/tmp", R);
  EXPECT_FALSE(unknown.allowed());
  EXPECT_TRUE(unknown.record);
  EXPECT_EQ(unknown.domain, nullptr);
  EXPECT_EQ(unknown.reason, "unknown domain");
}

TEST_F(DecisionTest, WithLevelMakesANewGeneration) {
  auto warned = policy_->WithLevel(4, Level::kWarning);
  ASSERT_NE(warned, nullptr);
  EXPECT_EQ(warned->generation(), policy_->generation() + 1);
  EXPECT_TRUE(Decide(*warned, 4, "/home", kUnlabeledId, R).warning);
  EXPECT_FALSE(D(4, "/home", R).allowed());  // the old snapshot is unchanged
  EXPECT_EQ(policy_->WithLevel(99, Level::kDisabled), nullptr);
  // Derived snapshots keep working lookups (the trie is shared, rules copied).
  EXPECT_EQ(warned->FindDomain(4)->MatchPath("/var/run/a")->source.path, "/var/run");
}

TEST_F(DecisionTest, WithAllLevels) {
  auto off = policy_->WithAllLevels(Level::kDisabled);
  for (const CompiledDomain& d : off->domains()) EXPECT_EQ(d.level, Level::kDisabled);
  EXPECT_TRUE(Decide(*off, 4, "/home", kUnlabeledId, W).allowed());
  EXPECT_EQ(off->generation(), policy_->generation() + 1);
}

TEST_F(DecisionTest, WithNewDomainAndWithout) {
  auto added = policy_->WithNewDomain("privVM");
  ASSERT_NE(added, nullptr);
  const CompiledDomain* d = added->FindDomain("privVM");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->id, 1u);  // lowest free id
  EXPECT_TRUE(d->runtime);
  EXPECT_EQ(d->level, Level::kEnforcing);
  EXPECT_FALSE(Decide(*added, 1, "/tmp", kUnlabeledId, R).allowed());
  EXPECT_EQ(added->FindDomain(DomainId{1}), d);        // still in id order
  EXPECT_EQ(added->WithNewDomain("privVM"), nullptr);  // name taken
  EXPECT_EQ(policy_->WithNewDomain(""), nullptr);
  EXPECT_EQ(policy_->WithNewDomain("a b"), nullptr);
  auto removed = added->WithoutDomain(1);
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->FindDomain("privVM"), nullptr);
  EXPECT_EQ(removed->generation(), policy_->generation() + 2);
  EXPECT_EQ(removed->WithoutDomain(1), nullptr);  // unknown now
  EXPECT_EQ(policy_->WithoutDomain(0), nullptr);  // the default domain stays
}

// Issue 19.7: a dontaudit rule keeps the verdict and drops the record, only for the
// perms it names and below its path.
TEST(DecisionDontaudit, SilencesOnlyWhatItNames) {
  MemoryTree tree;
  auto policy = CompileOrDie(
      Set({Dom("vm", 4,
               {"-r /etc r", "-r /etc/nss r dontaudit", "-c unix_socket_create dontaudit",
                "-p inet_socket_connect all dontaudit"}),
           Dom("warn", 5, {"-r /tmp/q w dontaudit"}, Level::kWarning)}),
      tree);
  Decision quiet = Decide(*policy, 4, "/etc/nss/passwd", kUnlabeledId, W);
  EXPECT_FALSE(quiet.allowed());
  EXPECT_TRUE(quiet.record);  // w is not silenced, only r
  Decision nss = Decide(*policy, 4, "/nss", kUnlabeledId, R);
  EXPECT_TRUE(nss.record);  // not below /etc/nss
  MemoryTree tree2;
  auto p2 = CompileOrDie(Set({Dom("vm", 4, {"-r /etc/nss r dontaudit"})}), tree2);
  Decision silent = Decide(*p2, 4, "/etc/nss/passwd", kUnlabeledId, R);
  EXPECT_FALSE(silent.allowed());  // still denied: dontaudit grants nothing
  EXPECT_FALSE(silent.record);
  Decision warn = Decide(*policy, 5, "/tmp/q/x", kUnlabeledId, W);
  EXPECT_TRUE(warn.allowed());  // warning level: allowed, and silenced too
  EXPECT_FALSE(warn.record);
  const CompiledDomain* vm = policy->FindDomain(DomainId{4});
  EXPECT_TRUE(vm->SilencesRule("-c unix_socket_create grant"));
  EXPECT_FALSE(vm->SilencesRule("-c inet_stream_socket_create grant"));
  EXPECT_FALSE(vm->HasCapability("unix_socket_create"));
  EXPECT_TRUE(vm->SilencesRule("-p inet_socket_connect nonloopback grant"));
  EXPECT_FALSE(vm->SilencesRule("-p inet_socket_bind loopback grant"));
  EXPECT_EQ(vm->path_rules.size(), 1u);  // the dontaudit -r rule is not a grant
}

}  // namespace
}  // namespace sptfs
