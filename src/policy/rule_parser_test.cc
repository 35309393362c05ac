#include "policy/rule_parser.h"

#include <gtest/gtest.h>

#include <set>

namespace sptfs {
namespace {

const SourceLocation kAt{"domains/x.toml", 7};

Rule Parse(std::string_view text) {
  Rule r;
  Status s = ParseRule(text, kAt, &r);
  EXPECT_TRUE(s.ok()) << s.message();
  return r;
}

std::string Error(std::string_view text) {
  Rule r;
  Status s = ParseRule(text, kAt, &r);
  EXPECT_FALSE(s.ok()) << text;
  EXPECT_EQ(s.code(), Status::Code::kInvalid);
  return s.message();
}

TEST(RuleParser, PathRules) {
  Rule r = Parse("-r /tmp rw");
  EXPECT_EQ(r.kind, RuleKind::kPath);
  EXPECT_EQ(r.path, "/tmp");
  EXPECT_EQ(r.perms, kPermRead | kPermWrite);
  EXPECT_EQ(r.where.line, 7);
  EXPECT_EQ(r.ToString(), "-r /tmp rw");
  Rule empty = Parse("-r /var/run/inetd.conf ");
  EXPECT_EQ(empty.perms, kPermNone);
  EXPECT_EQ(empty.ToString(), "-r /var/run/inetd.conf ");  // the seed's trailing space
  EXPECT_EQ(Parse("-r /bin/vmx xr").ToString(), "-r /bin/vmx rx");
  EXPECT_EQ(Parse("  -r\t/a   r  ").path, "/a");
}

TEST(RuleParser, ObjectRules) {
  Rule r = Parse("-o appObj rx");
  EXPECT_EQ(r.kind, RuleKind::kObject);
  EXPECT_EQ(r.label, "appObj");
  EXPECT_EQ(r.perms, kPermRead | kPermExec);
  EXPECT_EQ(Parse("-o keyObj").ToString(), "-o keyObj ");
}

TEST(RuleParser, TransitionCapabilityNetworkSyscall) {
  Rule d = Parse("-d tpm2emuObj tpm2emuDom file_exec grant");
  EXPECT_EQ(d.kind, RuleKind::kTransition);
  EXPECT_EQ(d.label, "tpm2emuObj");
  EXPECT_EQ(d.target_domain, "tpm2emuDom");
  EXPECT_EQ(d.ToString(), "-d tpm2emuObj tpm2emuDom file_exec grant");
  Rule c = Parse("-c vsocket_provide_service grant");
  EXPECT_EQ(c.kind, RuleKind::kCapability);
  EXPECT_EQ(c.name, "vsocket_provide_service");
  EXPECT_EQ(Parse("-c file_relabel grant").name, "file_relabel");
  Rule p = Parse("-p inet_socket_connect nonloopback grant");
  EXPECT_EQ(p.kind, RuleKind::kNetwork);
  EXPECT_EQ(p.name, "inet_socket_connect");
  EXPECT_EQ(p.scope, "nonloopback");
  EXPECT_EQ(p.ToString(), "-p inet_socket_connect nonloopback grant");
  Rule s = Parse("forkExecSys grant");
  EXPECT_EQ(s.kind, RuleKind::kSyscall);
  EXPECT_EQ(s.ToString(), "forkExecSys grant");
}

TEST(RuleParser, EveryTableKeywordIsAccepted) {
  for (const Keyword& k : Keywords()) {
    std::string text;
    if (k.kind == "capability") text = "-c " + std::string(k.word) + " grant";
    if (k.kind == "network-op") text = "-p " + std::string(k.word) + " all grant";
    if (k.kind == "network-scope") text = "-p inet_socket_bind " + std::string(k.word) + " grant";
    if (k.kind == "syscall-class") text = std::string(k.word) + " grant";
    if (!text.empty()) {
      EXPECT_EQ(Parse(text).ToString(), text);
    }
  }
}

TEST(RuleParser, KeywordTableHasSeedAndOurWords) {
  std::set<std::string_view> words;
  for (const Keyword& k : Keywords()) EXPECT_TRUE(words.insert(k.word).second) << k.word;
  for (std::string_view w : {"inet_stream_socket_create",
                             "dgram_vsocket_bind",
                             "vsocket_provide_service",
                             "file_relabel",
                             "policy_admin",
                             "domain_transition",
                             "inet_socket_bind",
                             "inet_socket_connect",
                             "loopback",
                             "nonloopback",
                             "all",
                             "genericSys",
                             "forkExecSys",
                             "openSys",
                             "killSys",
                             "-r",
                             "-o",
                             "-d",
                             "-c",
                             "-p",
                             "grant",
                             "file_exec"}) {
    EXPECT_TRUE(words.count(w)) << w;
  }
}

TEST(RuleParser, UnknownKeyword) {
  std::string m = Error("-x /tmp rw");
  EXPECT_EQ(m.rfind("domains/x.toml:7: unknown keyword '-x'", 0), 0u) << m;
  EXPECT_NE(m.find("(expected"), std::string::npos);
  EXPECT_NE(Error("-c no_such_cap grant").find("unknown capability 'no_such_cap'"),
            std::string::npos);
  EXPECT_NE(Error("-p inet_socket_listen all grant").find("unknown network operation"),
            std::string::npos);
  EXPECT_NE(Error("-p inet_socket_bind lan grant").find("unknown network scope 'lan'"),
            std::string::npos);
  EXPECT_NE(Error("fooSys grant").find("unknown keyword 'fooSys'"), std::string::npos);
  EXPECT_NE(Error("-c unix_socket_create deny").find("unknown action 'deny'"), std::string::npos);
  EXPECT_NE(Error("-d a b file_read grant").find("unknown transition 'file_read'"),
            std::string::npos);
}

TEST(RuleParser, BadPerms) {
  std::string m = Error("-r /tmp rwz");
  EXPECT_EQ(m,
            "domains/x.toml:7: bad permissions 'rwz' in rule '-r /tmp rwz' "
            "(expected a subset of rwx, each letter once, or nothing)");
  Error("-r /tmp rr");
  Error("-o appObj q");
}

TEST(RuleParser, NotAbsolute) {
  std::string m = Error("-r tmp rw");
  EXPECT_NE(m.find("path 'tmp' is not absolute"), std::string::npos) << m;
  EXPECT_NE(m.find("(expected a path starting with /)"), std::string::npos);
}

TEST(RuleParser, WrongWordCounts) {
  for (std::string_view bad : {"", "   ", "-r", "-r /a r x", "-d a b file_exec", "-c grant",
                               "-p inet_socket_bind grant", "genericSys", "genericSys grant x"}) {
    Error(bad);
  }
}

// Issue 19.7: dontaudit rules, the seed's action word in place of grant.
TEST(RuleParser, DontauditRules) {
  Rule r = Parse("-r /etc/nsswitch.conf r dontaudit");
  EXPECT_EQ(r.kind, RuleKind::kDontaudit);
  EXPECT_EQ(r.silences, RuleKind::kPath);
  EXPECT_EQ(r.path, "/etc/nsswitch.conf");
  EXPECT_EQ(r.perms, kPermRead);
  EXPECT_EQ(r.ToString(), "-r /etc/nsswitch.conf r dontaudit");
  Rule c = Parse("-c unix_socket_create dontaudit");
  EXPECT_EQ(c.kind, RuleKind::kDontaudit);
  EXPECT_EQ(c.silences, RuleKind::kCapability);
  EXPECT_EQ(c.ToString(), "-c unix_socket_create dontaudit");
  EXPECT_EQ(Parse("-p inet_socket_connect all dontaudit").ToString(),
            "-p inet_socket_connect all dontaudit");
  EXPECT_EQ(Parse("socketSys dontaudit").silences, RuleKind::kSyscall);
  EXPECT_NE(Error("-r /etc dontaudit").find("-r PATH PERMS dontaudit"), std::string::npos);
  EXPECT_NE(Error("-d appObj app file_exec dontaudit").find("cannot be dontaudit"),
            std::string::npos);
  EXPECT_NE(Error("-c unix_socket_create deny").find("expected grant or dontaudit"),
            std::string::npos);
  EXPECT_NE(Error("-r /etc r x dontaudit").find("-r PATH PERMS dontaudit"), std::string::npos);
}

}  // namespace
}  // namespace sptfs
