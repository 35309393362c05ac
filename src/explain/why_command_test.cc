#include "explain/why_command.h"

#include <gtest/gtest.h>

#include "policy/compiler.h"
#include "policy/rule_parser.h"

namespace sptfs {
namespace {

using Args = std::vector<std::string>;

TEST(ParseWhyOperandsTest, Forms) {
  WhyRequest r;
  ASSERT_TRUE(ParseWhyOperands({"globalVMDom", "/tmp/x"}, &r).ok());
  EXPECT_EQ(r.domain, "globalVMDom");
  EXPECT_EQ(r.path, "/tmp/x");
  EXPECT_EQ(r.access, kPermRead);
  ASSERT_TRUE(ParseWhyOperands({"--domain", "4", "/tmp/x", "rw"}, &r).ok());
  EXPECT_EQ(r.domain, "4");
  EXPECT_EQ(r.access, kPermRead | kPermWrite);
  ASSERT_TRUE(ParseWhyOperands({"/tmp/x", "--pid", "123", "x", "-L", "appObj"}, &r).ok());
  EXPECT_EQ(r.pid, 123);
  EXPECT_EQ(r.access, kPermExec);
  EXPECT_EQ(r.label, "appObj");
  EXPECT_FALSE(r.host);
  ASSERT_TRUE(ParseWhyOperands({"--host", "d", "/etc/shadow"}, &r).ok());
  EXPECT_TRUE(r.host);
  EXPECT_EQ(r.domain, "d");
  EXPECT_EQ(r.path, "/etc/shadow");
}

TEST(ParseWhyOperandsTest, BadInput) {
  WhyRequest r;
  struct Case {
    Args args;
    const char* error;
  } cases[] = {
      {{}, "--why: no domain"},
      {{"globalVMDom"}, "--why: no path"},
      {{"--domain", "d", "rel/path"}, "--why: rel/path: not an absolute path"},
      {{"d", "/x", "rq"}, "--why: access 'rq'"},
      {{"d", "/x", "r", "w"}, "--why: unexpected 'w'"},
      {{"--pid", "zero", "/x"}, "--why: --pid zero: not a process id"},
      {{"--domain", "d", "--pid", "5", "/x"}, "--why: both a domain and --pid"},
      {{"d", "/x", "--label"}, "--why: --label needs a value"},
  };
  for (const Case& c : cases) {
    Status s = ParseWhyOperands(c.args, &r);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.message().rfind(c.error, 0), 0u) << s.message();
  }
}

TEST(RewriteExplainArgsTest, MovesExplainOptionsAfterDashDash) {
  EXPECT_EQ(RewriteExplainArgs({"--why", "--domain", "X", "/p", "--mount", "/m"}),
            (Args{"--mount", "/m", "--why", "--", "--domain", "X", "/p"}));
  EXPECT_EQ(RewriteExplainArgs({"--policy=/pol", "--suggest", "--glob", "log"}),
            (Args{"--policy=/pol", "--suggest", "--", "--glob", "log"}));
  EXPECT_EQ(RewriteExplainArgs({"-d4", "--mount", "/m"}), (Args{"-d4", "--mount", "/m"}));
}

class RunWhyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.AddFile("/locker/vmtools/windows.iso");
    tree_.AddSymlink("/productLocker", "/locker");
    set_.labels = {{"unlabeled", 0, {}}, {"appObj", 3117, {}}};
    set_.default_domain = "globalVMDom";
    DomainSpec vm{"globalVMDom", 4, Level::kEnforcing, false, {}, {}, {}};
    Rule r;
    ASSERT_TRUE(ParseRule("-r /productLocker r", {"g.toml", 3}, &r).ok());
    vm.rules.push_back(r);
    set_.domains = {vm};
    std::vector<std::string> warnings;
    ASSERT_TRUE(Compile(set_, tree_, 1, &policy_, &warnings).ok());
    src_.policy = policy_.get();
    src_.tree = &tree_;
  }
  int Run(const Args& args) {
    out_.clear();
    err_.clear();
    return RunWhy(args, src_, &out_, &err_);
  }
  MemoryTree tree_;
  PolicySet set_;
  std::shared_ptr<const CompiledPolicy> policy_;
  WhySources src_;
  std::string out_, err_;
};

TEST_F(RunWhyTest, AnswersByNameIdAndPid) {
  EXPECT_EQ(Run({"globalVMDom", "/productLocker/vmtools/windows.iso"}), 0) << err_;
  EXPECT_EQ(out_.rfind("allow: globalVMDom (4, enforcing) r", 0), 0u) << out_;
  EXPECT_EQ(Run({"4", "/productLocker/vmtools/windows.iso", "w"}), 0);
  EXPECT_EQ(out_.rfind("deny: ", 0), 0u) << out_;
  EXPECT_EQ(Run({"--pid", "77", "/productLocker/vmtools/windows.iso"}), 1);
  EXPECT_NE(err_.find("needs a running sptfs"), std::string::npos);
  src_.domain_of_pid = [](pid_t pid, DomainId* d) {
    if (pid != 77) return Status::NotFound("no such process");
    *d = 4;
    return Status::Ok();
  };
  EXPECT_EQ(Run({"--pid", "77", "/productLocker/vmtools/windows.iso"}), 0) << err_;
  EXPECT_NE(out_.find("process:        77"), std::string::npos);
  EXPECT_EQ(Run({"--pid", "78", "/x"}), 1);
  EXPECT_NE(err_.find("no such process"), std::string::npos);
}

TEST_F(RunWhyTest, LabelFromSourceOrOperand) {
  std::string asked;
  src_.label_of = [&](const std::string& canonical) {
    asked = canonical;
    return LabelId{3117};
  };
  EXPECT_EQ(Run({"globalVMDom", "/productLocker/vmtools/windows.iso"}), 0);
  EXPECT_EQ(asked, "/locker/vmtools/windows.iso");
  EXPECT_NE(out_.find("object label:   appObj (3117)"), std::string::npos) << out_;
  EXPECT_EQ(Run({"globalVMDom", "/productLocker/vmtools/windows.iso", "--label", "unlabeled"}), 0);
  EXPECT_NE(out_.find("object label:   unlabeled (0)"), std::string::npos) << out_;
}

TEST_F(RunWhyTest, Errors) {
  EXPECT_EQ(Run({"nosuchDom", "/x"}), 1);
  EXPECT_EQ(err_, "spt: --why: unknown domain 'nosuchDom' (expected a name or id from spt -l)\n");
  EXPECT_EQ(Run({"globalVMDom", "/x", "-L", "nosuchObj"}), 1);
  EXPECT_NE(err_.find("unknown label 'nosuchObj'"), std::string::npos);
  EXPECT_EQ(Run({"globalVMDom"}), 2);
  EXPECT_TRUE(out_.empty());
}

}  // namespace
}  // namespace sptfs
