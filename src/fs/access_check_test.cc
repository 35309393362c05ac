// AccessChecker's audit side without FUSE: the stale-rule hint of a denial is paid only
// by records the audit log writes, and stays right (issue 15 item 4).
#include "fs/access_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "policy/compiler.h"
#include "policy/rule_parser.h"

namespace sptfs {
namespace {

constexpr char kDatastore[] = "/vmfs/volumes/ds1/productLocker";

// A MemoryTree that counts the lookups made in it.
class CountingTree : public TreeView {
 public:
  Entry Lookup(const std::string& path) const override {
    ++lookups;
    return tree.Lookup(path);
  }
  MemoryTree tree;
  mutable std::atomic<int> lookups{0};
};

Rule R(const std::string& text) {
  Rule r;
  Status s = ParseRule(text, SourceLocation{"vmDom.toml", 3}, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

class AccessCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.tree.AddFile("/locker/vmtools/windows.iso");
    tree_.tree.AddFile(std::string(kDatastore) + "/vmtools/windows.iso");
    tree_.tree.AddFile("/etc/secret");
    tree_.tree.AddSymlink("/productLocker", "/locker");
    PolicySet set;
    set.default_domain = "superDom";
    set.labels = {{"unlabeled", 0, {}}};
    DomainSpec super{"superDom", 0, Level::kEnforcing, true, {}, {}, {}};
    DomainSpec vm{"vmDom", 4, Level::kEnforcing, false, {}, {}, {}};
    // Many rules, so a hint that resolves them all is easy to see in the count.
    vm.rules = {R("-r /productLocker r")};
    for (int i = 0; i < 20; ++i) vm.rules.push_back(R("-r /data/d" + std::to_string(i) + " r"));
    set.domains = {super, vm};
    std::vector<std::string> warnings;
    ASSERT_TRUE(Compile(set, tree_, 1, &policy_, &warnings).ok());
    // The productLocker move, after the load: the /productLocker rule is now stale.
    tree_.tree.AddSymlink("/productLocker", kDatastore);
    char dir[] = "/tmp/access_check_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    log_path_ = dir_ + "/audit.log";
  }
  void TearDown() override {
    unlink(log_path_.c_str());
    rmdir(dir_.c_str());
  }
  Subject VmCaller() const {
    Subject s;
    s.policy = policy_;
    s.caller.identified = true;
    s.caller.pid = s.caller.tid = 4242;
    s.caller.domain = 4;
    s.domain = policy_->FindDomain(4);
    return s;
  }
  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  CountingTree tree_;
  std::shared_ptr<const CompiledPolicy> policy_;
  std::string dir_, log_path_;
};

TEST_F(AccessCheckTest, DeniedFloodOverTheRateLimitDoesNoLookups) {
  std::unique_ptr<AuditLog> audit;
  ASSERT_TRUE(AuditLog::Open(log_path_, 5, &audit).ok());
  AccessChecker checker(nullptr, nullptr, audit.get(), "", "user.spt.label", &tree_);
  Subject s = VmCaller();
  tree_.lookups = 0;
  (void)FindStaleRules(*s.domain, tree_);
  int one_pass = tree_.lookups.exchange(0);
  ASSERT_GT(one_pass, 20);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(checker.Check(s, "/etc/secret", ResolvedLabel{}, kPermWrite, "open"), EPERM);
  }
  // At most 5 records a second are written, and the stale rules are found again at
  // most once a second: a few passes however long the loop took, not 2,000.
  EXPECT_LE(tree_.lookups.load(), 4 * one_pass) << "one pass: " << one_pass;
  audit->Flush();
  EXPECT_GT(audit->Stats().suppressed, 0u);
}

TEST_F(AccessCheckTest, WrittenDenialCarriesTheStaleHint) {
  std::unique_ptr<AuditLog> audit;
  ASSERT_TRUE(AuditLog::Open(log_path_, 0, &audit).ok());
  AccessChecker checker(nullptr, nullptr, audit.get(), "", "user.spt.label", &tree_);
  Subject s = VmCaller();
  std::string iso = std::string(kDatastore) + "/vmtools/windows.iso";
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(checker.Check(s, iso, ResolvedLabel{}, kPermRead, "open"), EPERM);
  }
  ASSERT_EQ(checker.Check(s, "/etc/secret", ResolvedLabel{}, kPermRead, "open"), EPERM);
  audit->Flush();
  std::string log = Log();
  std::string hint = std::string("/productLocker now resolves to ") + kDatastore;
  size_t at = 0;
  int hints = 0;
  while ((at = log.find(hint, at)) != std::string::npos) {
    ++hints;
    at += hint.size();
  }
  EXPECT_EQ(hints, 3) << log;  // each of the three denials under the moved link, cached or not
  EXPECT_NE(log.find("spt -p would allow this"), std::string::npos) << log;
  // /etc/secret is covered by no stale rule: no hint on its line.
  std::string last = log.substr(log.rfind("path=", log.size() - 2));
  EXPECT_NE(last.find("/etc/secret"), std::string::npos) << log;
  EXPECT_EQ(last.find("hint="), std::string::npos) << last;
}

}  // namespace
}  // namespace sptfs
