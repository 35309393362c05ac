#include "explain/why_host.h"

#include <gtest/gtest.h>

#include <map>

#include "policy/compiler.h"
#include "policy/rule_parser.h"

namespace sptfs {
namespace {

Rule R(const std::string& text, int line) {
  Rule r;
  Status s = ParseRule(text, SourceLocation{"d.toml", line}, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

// A made-up host: paths and kinds; /lnk is a symlink to /etc.
class FakeHost : public HostView {
 public:
  HostKind Kind(const std::string& path) override {
    auto it = kinds_.find(Resolve(path));
    return it == kinds_.end() ? HostKind::kMissing : it->second;
  }
  std::vector<std::pair<std::string, HostKind>> List(const std::string& dir) override {
    std::vector<std::pair<std::string, HostKind>> out;
    std::string prefix = dir == "/" ? "/" : dir + "/";
    for (const auto& [p, k] : kinds_) {
      if (p.size() > prefix.size() && p.rfind(prefix, 0) == 0 &&
          p.find('/', prefix.size()) == std::string::npos) {
        out.emplace_back(p.substr(prefix.size()), k);
      }
    }
    return out;
  }
  std::string Resolve(const std::string& path) override {
    if (path == "/lnk" || path.rfind("/lnk/", 0) == 0) return "/etc" + path.substr(4);
    return path;
  }

 private:
  std::map<std::string, HostKind> kinds_ = {
      {"/", HostKind::kDirectory},       {"/etc", HostKind::kDirectory},
      {"/etc/passwd", HostKind::kOther}, {"/etc/shadow", HostKind::kOther},
      {"/mnt", HostKind::kDirectory},    {"/mnt/m", HostKind::kDirectory},
      {"/opt", HostKind::kDirectory},    {"/opt/tool", HostKind::kOther},
      {"/srv", HostKind::kDirectory},    {"/srv/only-b", HostKind::kOther}};
};

class WhyHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_.default_domain = "superDom";
    set_.labels = {{"unlabeled", 0, {}}, {"toolObj", 3000, {}}};
    DomainSpec super{"superDom", 0, Level::kEnforcing, true, {}, {}, {}};
    DomainSpec a{"aDom", 10, Level::kEnforcing, false, {}, {}, {}};
    a.rules = {R("-r /etc r", 3), R("-r /etc/shadow ", 4), R("-r /opt rx", 5),
               R("-d toolObj bDom file_exec grant", 6)};
    DomainSpec b{"bDom", 11, Level::kEnforcing, false, {}, {}, {}};
    b.rules = {R("-r /srv/only-b r", 8)};
    DomainSpec w{"warnDom", 12, Level::kWarning, false, {}, {}, {}};
    set_.domains = {super, a, b, w};
    MemoryTree tree;
    std::vector<std::string> warnings;
    ASSERT_TRUE(Compile(set_, tree, 1, &policy_, &warnings).ok());
  }
  std::string Why(DomainId d, const std::string& path, Perms perms, int abi = 7) {
    std::string text;
    Status s = ExplainHostAccess(*policy_, d, path, perms, abi, "/mnt/m", &host_, &text);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return text;
  }

  FakeHost host_;
  PolicySet set_;
  std::shared_ptr<const CompiledPolicy> policy_;
};

TEST_F(WhyHostTest, GrantedHostFileNamesLandlockAndTheRule) {
  std::string t = Why(10, "/etc/passwd", kPermRead);
  EXPECT_EQ(t.rfind("allow: aDom (10, enforcing) r /etc/passwd\n", 0), 0u) << t;
  EXPECT_NE(t.find("decided by:     Landlock, from rule -r /etc r  [d.toml:3] of aDom"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("ruleset of:     aDom, bDom"), std::string::npos) << t;
  EXPECT_NE(t.find("granted:        r\n"), std::string::npos) << t;
}

TEST_F(WhyHostTest, CarvedOutAndUncoveredPathsAreDeniedWithEacces) {
  std::string t = Why(10, "/etc/shadow", kPermRead);
  EXPECT_EQ(t.rfind("deny: aDom", 0), 0u) << t;
  EXPECT_NE(t.find("-r /etc/shadow (no access)  [d.toml:4] of aDom"), std::string::npos) << t;
  EXPECT_NE(t.find("fails with EACCES"), std::string::npos) << t;
  t = Why(10, "/etc/passwd", kPermWrite);  // r only
  EXPECT_EQ(t.rfind("deny: ", 0), 0u) << t;
  t = Why(10, "/var/log/syslog", kPermRead);
  EXPECT_EQ(t.rfind("deny: ", 0), 0u) << t;
  EXPECT_NE(t.find("no -r rule covers /var/log/syslog"), std::string::npos) << t;
  // The directory above a carve-out keeps only what is safe: listing, no reading.
  t = Why(10, "/etc", kPermRead);
  EXPECT_EQ(t.rfind("allow: ", 0), 0u) << t;  // read of a directory is listing
}

TEST_F(WhyHostTest, UnionOfReachableDomainsAndSymlinks) {
  // bDom's file: aDom reaches bDom by -d, so aDom's world holds it (the union).
  std::string t = Why(10, "/srv/only-b", kPermRead);
  EXPECT_EQ(t.rfind("allow: ", 0), 0u) << t;
  EXPECT_NE(t.find("from rule -r /srv/only-b r  [d.toml:8] of bDom"), std::string::npos) << t;
  // bDom alone reaches nothing else: /etc is not its.
  t = Why(11, "/etc/passwd", kPermRead);
  EXPECT_EQ(t.rfind("deny: ", 0), 0u) << t;
  // A symlink to a denied file is judged where it leads.
  t = Why(10, "/lnk/shadow", kPermRead);
  EXPECT_EQ(t.rfind("deny: ", 0), 0u) << t;
  t = Why(10, "/opt/tool", kPermExec);
  EXPECT_EQ(t.rfind("allow: ", 0), 0u) << t;
}

TEST_F(WhyHostTest, NoRulesetWhenNotEnforcingOrNoLandlock) {
  std::string t = Why(12, "/etc/shadow", kPermRead);
  EXPECT_EQ(t.rfind("allow: ", 0), 0u) << t;
  EXPECT_NE(t.find("decided by:     nobody (no Landlock ruleset: domain warnDom is at level "
                   "warning"),
            std::string::npos)
      << t;
  t = Why(10, "/etc/shadow", kPermRead, 0);
  EXPECT_NE(t.find("this kernel has no Landlock"), std::string::npos) << t;
}

TEST_F(WhyHostTest, TreePathUnderMount) {
  std::string tree;
  EXPECT_TRUE(TreePathUnderMount("/mnt/m/data/x", "/mnt/m", &host_, &tree));
  EXPECT_EQ(tree, "/data/x");
  EXPECT_TRUE(TreePathUnderMount("/mnt/m", "/mnt/m", &host_, &tree));
  EXPECT_EQ(tree, "/");
  EXPECT_FALSE(TreePathUnderMount("/mnt/mm/x", "/mnt/m", &host_, &tree));  // whole components
  EXPECT_FALSE(TreePathUnderMount("/etc/passwd", "", &host_, &tree));      // no mount known
}

}  // namespace
}  // namespace sptfs
