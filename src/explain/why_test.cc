#include "explain/why.h"

#include <gtest/gtest.h>

#include "policy/compiler.h"
#include "policy/rule_parser.h"

namespace sptfs {
namespace {

constexpr char kDatastore[] = "/vmfs/volumes/5d3fb5c5-3146d212-4263-8030e03bdef0/productLocker";
constexpr char kIso[] = "/vmimages/tools-isoimages/windows.iso";

Rule R(const std::string& text) {
  Rule r;
  Status s = ParseRule(text, SourceLocation{"globalVMDom.toml", 7}, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

// The productLocker layout of the sample tree, in memory.
class WhyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.AddFile("/locker/packages/vmtoolsRepo/vmtools/windows.iso");
    tree_.AddFile(std::string(kDatastore) + "/vmtools/windows.iso");
    tree_.AddFile("/etc/secret");
    tree_.AddSymlink("/productLocker", "/locker/packages/vmtoolsRepo");
    tree_.AddSymlink("/vmimages/tools-isoimages", "/productLocker/vmtools");
    set_.default_domain = "superDom";
    set_.labels = {{"unlabeled", 0, {}}, {"appObj", 3117, {}}};
    DomainSpec super{"superDom", 0, Level::kEnforcing, true, {}, {}, {}};
    DomainSpec vm{"globalVMDom", 4, Level::kEnforcing, false, {}, {}, {}};
    vm.rules = {R("-r /productLocker r"), R("-r /tmp rw"), R("-r /vmimages r"), R("-r /etc r"),
                R("-o appObj r")};
    set_.domains = {super, vm};
    Recompile();
  }
  void Recompile() {
    std::vector<std::string> warnings;
    Status s = Compile(set_, tree_, ++generation_, &policy_, &warnings);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Explanation Why(const std::string& path, Perms perms, LabelId label = kUnlabeledId,
                  DomainId domain = 4) {
    Explanation e;
    Status s = Explain(*policy_, tree_, domain, path, label, perms, &e);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return e;
  }

  MemoryTree tree_;
  PolicySet set_;
  uint64_t generation_ = 0;
  std::shared_ptr<const CompiledPolicy> policy_;
};

TEST_F(WhyTest, AllowThroughLinksNamesRuleAndCanonicalPath) {
  Explanation e = Why(kIso, kPermRead);
  EXPECT_TRUE(e.decision.allowed());
  EXPECT_EQ(e.canonical, "/locker/packages/vmtoolsRepo/vmtools/windows.iso");
  ASSERT_NE(e.decision.path_rule, nullptr);
  EXPECT_EQ(e.decision.path_rule->source.path, "/productLocker");
  EXPECT_TRUE(e.stale.empty());
  EXPECT_FALSE(e.allowed_after_reload.has_value());
  std::string text = FormatExplanation(e);
  EXPECT_EQ(text.rfind("allow: globalVMDom (4, enforcing) r " + std::string(kIso) + "\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("canonical path: /locker/packages/vmtoolsRepo/vmtools/windows.iso"),
            std::string::npos);
  EXPECT_NE(text.find("-r /productLocker r, compiled to /locker/packages/vmtoolsRepo"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("object label:   unlabeled (0)"), std::string::npos);
  EXPECT_EQ(text.find("spt -p"), std::string::npos);
}

TEST_F(WhyTest, RepointedLinkDeniesAndSaysReloadWouldAllow) {
  tree_.AddSymlink("/productLocker", kDatastore);
  Explanation e = Why(kIso, kPermRead);
  EXPECT_FALSE(e.decision.allowed());
  EXPECT_EQ(e.canonical, std::string(kDatastore) + "/vmtools/windows.iso");
  EXPECT_EQ(e.decision.path_rule, nullptr);
  ASSERT_EQ(e.stale.size(), 1u);
  EXPECT_EQ(e.stale[0].now_resolves_to, kDatastore);
  EXPECT_TRUE(e.stale[0].covers_after_reload);
  ASSERT_TRUE(e.allowed_after_reload.has_value());
  EXPECT_TRUE(*e.allowed_after_reload);
  std::string text = FormatExplanation(e);
  EXPECT_EQ(text.rfind("deny: ", 0), 0u) << text;
  EXPECT_NE(text.find("EPERM"), std::string::npos);
  EXPECT_NE(text.find("/productLocker now resolves to " + std::string(kDatastore)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("after spt -p:   allow (`spt -p` would change the answer)"),
            std::string::npos)
      << text;
  // After the reload the answer is the predicted one, with no stale rule left.
  Recompile();
  Explanation after = Why(kIso, kPermRead);
  EXPECT_TRUE(after.decision.allowed());
  EXPECT_TRUE(after.stale.empty());
}

TEST_F(WhyTest, RelativeLinkResolvesFromItsDirectory) {
  tree_.AddSymlink("/productLocker", std::string(kDatastore).substr(1));  // "vmfs/volumes/..."
  Explanation e = Why(kIso, kPermRead);
  EXPECT_EQ(e.canonical, std::string(kDatastore) + "/vmtools/windows.iso");
  EXPECT_FALSE(e.decision.allowed());
  ASSERT_TRUE(e.allowed_after_reload.has_value());
  EXPECT_TRUE(*e.allowed_after_reload);
}

TEST_F(WhyTest, StaleRuleThatStillAllowsSaysReloadWouldDeny) {
  // The link moves away: the old target stays readable until the reload.
  tree_.AddSymlink("/productLocker", kDatastore);
  Explanation e = Why("/locker/packages/vmtoolsRepo/vmtools/windows.iso", kPermRead);
  EXPECT_TRUE(e.decision.allowed());
  ASSERT_EQ(e.stale.size(), 1u);
  EXPECT_TRUE(e.stale[0].covers_now);
  EXPECT_FALSE(e.stale[0].covers_after_reload);
  ASSERT_TRUE(e.allowed_after_reload.has_value());
  EXPECT_FALSE(*e.allowed_after_reload);
  EXPECT_NE(FormatExplanation(e).find("after spt -p:   deny"), std::string::npos);
}

TEST_F(WhyTest, ReloadWouldNotHelpWhenAccessExceedsRule) {
  tree_.AddSymlink("/productLocker", kDatastore);
  Explanation e = Why(kIso, kPermRead | kPermWrite);
  EXPECT_FALSE(e.decision.allowed());
  ASSERT_TRUE(e.allowed_after_reload.has_value());
  EXPECT_FALSE(*e.allowed_after_reload);
  EXPECT_NE(FormatExplanation(e).find("(the answer would not change)"), std::string::npos);
}

TEST_F(WhyTest, LabelLimitsAccess) {
  LabelId app = *policy_->FindLabel("appObj");
  Explanation e = Why("/tmp/x", kPermWrite, app);
  EXPECT_FALSE(e.decision.allowed());
  std::string text = FormatExplanation(e);
  EXPECT_NE(text.find("object label:   appObj (3117)"), std::string::npos) << text;
  EXPECT_NE(text.find("label rule:     -o appObj r"), std::string::npos) << text;
  EXPECT_TRUE(Why("/tmp/x", kPermRead, app).decision.allowed());
}

TEST_F(WhyTest, NoRuleUnconfinedAndUnknownDomain) {
  Explanation none = Why("/vmfs/other", kPermRead);
  EXPECT_FALSE(none.decision.allowed());
  EXPECT_NE(FormatExplanation(none).find("no -r rule covers the canonical path"),
            std::string::npos);
  Explanation super = Why("/vmfs/other", kPermAll, kUnlabeledId, 0);
  EXPECT_TRUE(super.decision.allowed());
  EXPECT_NE(FormatExplanation(super).find("unconfined"), std::string::npos);
  Explanation unknown = Why("/tmp", kPermRead, kUnlabeledId, 999);
  EXPECT_FALSE(unknown.decision.allowed());
  EXPECT_NE(FormatExplanation(unknown).find("domain id 999 (unknown)"), std::string::npos);
}

TEST_F(WhyTest, RelativePathIsAnError) {
  Explanation e;
  Status s = Explain(*policy_, tree_, 4, "tmp/x", kUnlabeledId, kPermRead, &e);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not an absolute path"), std::string::npos);
}

TEST_F(WhyTest, StaleHintForAuditRecords) {
  EXPECT_EQ(StaleHint(*policy_, tree_, 4, "/locker/packages/vmtoolsRepo/vmtools/windows.iso",
                      kUnlabeledId, kPermRead),
            "");
  tree_.AddSymlink("/productLocker", kDatastore);
  std::string hint = StaleHint(*policy_, tree_, 4, std::string(kDatastore) + "/vmtools/windows.iso",
                               kUnlabeledId, kPermRead);
  EXPECT_NE(hint.find("/productLocker now resolves to " + std::string(kDatastore)),
            std::string::npos)
      << hint;
  EXPECT_NE(hint.find("spt -p would allow this"), std::string::npos) << hint;
  EXPECT_EQ(hint.find('"'), std::string::npos);  // fits the audit line's quoting
  EXPECT_EQ(hint.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace sptfs
