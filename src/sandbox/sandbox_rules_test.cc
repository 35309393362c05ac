#include "sandbox/sandbox_rules.h"

#include <gtest/gtest.h>

namespace sptfs {
namespace {

TEST(SandboxRules, RoundTripsThroughText) {
  std::vector<Rule> rules(4);
  rules[0].kind = RuleKind::kCapability;
  rules[0].name = "unix_socket_create";
  rules[1].kind = RuleKind::kNetwork;
  rules[1].name = "inet_socket_connect";
  rules[1].scope = "loopback";
  rules[2].kind = RuleKind::kSyscall;
  rules[2].name = "genericSys";
  rules[3].kind = RuleKind::kPath;  // not the sandbox's business
  rules[3].path = "/tmp";
  SandboxRules r = SandboxRulesOf("vmDom", 4, Level::kWarning, false, rules);
  std::string text = FormatSandboxRules(r);
  EXPECT_EQ(text,
            "domain vmDom 4 warning confined\n-c unix_socket_create grant\n"
            "-p inet_socket_connect loopback grant\ngenericSys grant\n");
  std::vector<SandboxRules> back;
  ASSERT_TRUE(ParseSandboxRules(text + "domain superDom 0 enforcing unconfined\n", &back).ok());
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].name, "vmDom");
  EXPECT_EQ(back[0].id, 4u);
  EXPECT_EQ(back[0].level, Level::kWarning);
  EXPECT_TRUE(back[0].HasCapability("unix_socket_create"));
  EXPECT_TRUE(back[0].HasNetwork("inet_socket_connect", "loopback"));
  EXPECT_TRUE(back[0].has_syscall_rules());
  EXPECT_TRUE(back[1].unconfined);
  EXPECT_FALSE(back[1].has_syscall_rules());
}

TEST(SandboxRules, BadTextSaysWhereAndWhat) {
  std::vector<SandboxRules> out;
  Status s = ParseSandboxRules("-c unix_socket_create grant\n", &out);
  EXPECT_EQ(s.message(),
            "sandbox reply:1: a rule before any domain line (expected domain NAME ...)");
  s = ParseSandboxRules("domain x 4 loud confined\n", &out);
  EXPECT_NE(s.message().find("sandbox reply:1: bad level 'loud'"), std::string::npos);
  s = ParseSandboxRules("domain x 4 enforcing confined\n-r /tmp rw\n", &out);
  EXPECT_NE(s.message().find("sandbox reply:2:"), std::string::npos);
  s = ParseSandboxRules("", &out);
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace sptfs
