#include "explain/suggest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "explain/audit_fields.h"
#include "policy/test_util.h"

namespace sptfs {
namespace {

constexpr char kIso[] =
    "/vmfs/volumes/5d3fb5c5-3146d212-4263-8030e03bdef0/productLocker/vmtools/windows.iso";

// A denial line in the audit log's format (src/audit/audit_format.cc).
std::string Line(const std::string& verdict, const std::string& perms, const std::string& path,
                 const std::string& domain = "globalVMDom(4)",
                 const std::string& label = "unlabeled", const std::string& op = "open") {
  return "type=SPT_AVC msg=audit(1700000000.123): " + verdict + " { " + perms + " } op=" + op +
         " pid=42 tid=42 comm=\"vmx\" exe=\"/bin/vmx\" uid=0 path=\"" + path + "\" label=" + label +
         " domain=" + domain + " level=enforcing rule=\"no rule\" generation=1\n";
}

std::vector<DomainSuggestion> Suggest(const std::string& log, bool glob = false,
                                      std::vector<std::string>* warnings = nullptr,
                                      SuggestOptions options = {}) {
  std::vector<DomainSuggestion> out;
  std::vector<std::string> w;
  options.glob = glob;
  options.source = "audit.log";
  Status s = SuggestRules(log, options, &out, warnings ? warnings : &w);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(AuditFieldsTest, ReadsAvcLine) {
  AuditFields f;
  ASSERT_TRUE(ParseAuditFields(Line("denied", "read write", "/a b"), &f));
  EXPECT_EQ(f["type"], "SPT_AVC");
  EXPECT_EQ(f["#0"], "denied");
  EXPECT_EQ(f["{}"], "read write");
  EXPECT_EQ(f["op"], "open");
  EXPECT_EQ(f["path"], "/a b");
  EXPECT_EQ(f["domain"], "globalVMDom(4)");
  EXPECT_EQ(f["rule"], "no rule");
  EXPECT_FALSE(ParseAuditFields("path=\"/unterminated", &f));
}

TEST(AuditFieldsTest, DecodesHexValues) {
  EXPECT_EQ(DecodeAuditValue("2F6120620A"), "/a b\n");
  EXPECT_EQ(DecodeAuditValue("/plain"), "/plain");
  EXPECT_EQ(DecodeAuditValue("ABC"), "ABC");  // odd length: not hex
}

TEST(SuggestTest, ProductLockerDenialGivesExactPathRule) {
  auto s = Suggest("type=SPT_EVENT msg=audit(1.0): op=load generation=1\n" +
                   Line("denied", "read", kIso) + Line("denied", "read", kIso));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].domain, "globalVMDom");
  EXPECT_EQ(s[0].domain_id, "4");
  EXPECT_EQ(s[0].denials, 2);
  ASSERT_EQ(s[0].rules.size(), 1u);
  EXPECT_EQ(s[0].rules[0].text, std::string("-r ") + kIso + " r");
  EXPECT_EQ(
      FormatSuggestions(s),
      std::string("# globalVMDom (4): 2 denials\n# open r (2 denials)\n") + "-r " + kIso + " r\n");
}

TEST(SuggestTest, MergesPermsPerPathAndGroupsPerDomain) {
  auto s =
      Suggest(Line("denied", "read", "/tmp/a") + Line("warning", "write", "/tmp/a") +
              Line("denied", "execute", "/bin/x", "appDom(2)") + Line("denied", "read", "/tmp/b"));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].domain, "globalVMDom");
  ASSERT_EQ(s[0].rules.size(), 2u);
  EXPECT_EQ(s[0].rules[0].text, "-r /tmp/a rw");
  EXPECT_EQ(s[0].rules[1].text, "-r /tmp/b r");
  EXPECT_EQ(s[1].domain, "appDom");
  EXPECT_EQ(s[1].rules[0].text, "-r /bin/x x");
  EXPECT_NE(FormatSuggestions(s).find("\n\n# appDom (2): 1 denial\n"), std::string::npos);
}

TEST(SuggestTest, NeverBroaderUnlessGlob) {
  std::string log = Line("denied", "read", "/vmfs/v/pl/vmtools/windows.iso") +
                    Line("denied", "read", "/vmfs/v/pl/vmtools/linux.iso");
  auto exact = Suggest(log);
  ASSERT_EQ(exact[0].rules.size(), 2u);
  EXPECT_EQ(exact[0].rules[0].text, "-r /vmfs/v/pl/vmtools/linux.iso r");
  auto glob = Suggest(log, true);
  ASSERT_EQ(glob[0].rules.size(), 1u);
  EXPECT_EQ(glob[0].rules[0].text, "-r /vmfs/v/pl/vmtools r");
}

TEST(SuggestTest, AncestorRuleThatAlreadyGrantsMakesChildRedundant) {
  auto s = Suggest(Line("denied", "read", "/data") + Line("denied", "read", "/data/x") +
                   Line("denied", "write", "/data/y"));
  ASSERT_EQ(s[0].rules.size(), 2u);
  EXPECT_EQ(s[0].rules[0].text, "-r /data r");
  EXPECT_EQ(s[0].rules[1].text, "-r /data/y w");
}

TEST(SuggestTest, LabelledObjectAlsoNeedsObjectRule) {
  auto s = Suggest(Line("denied", "read", "/etc/ssl/key", "globalVMDom(4)", "sslKeyObj"));
  ASSERT_EQ(s[0].rules.size(), 2u);
  EXPECT_EQ(s[0].rules[1].text, "-o sslKeyObj r");
  // An unknown label ("?") gets no -o rule.
  auto q = Suggest(Line("denied", "read", "/x", "globalVMDom(4)", "?"));
  EXPECT_EQ(q[0].rules.size(), 1u);
}

TEST(SuggestTest, EventsAreNotAccessRecords) {
  std::vector<std::string> warnings;
  auto s = Suggest(
      "type=SPT_CONTROL_REFUSED msg=audit(1.0): cmd=\"spt -p\" reason=\"x\" result=denied\n"
      "type=SPT_POLICY_LOAD msg=audit(1.0): dir=\"/p\" result=failed error=\"denied\"\n",
      false, &warnings);
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(warnings.empty());
  // A garbled label ("invalid") gets no -o rule: relabelling is the fix.
  auto inv = Suggest(Line("denied", "read", "/x", "globalVMDom(4)", "invalid"));
  EXPECT_EQ(inv[0].rules.size(), 1u);
}

TEST(SuggestTest, HexPathIsDecoded) {
  // "/a b" written as hex by the audit log.
  auto s = Suggest(
      "type=SPT_AVC msg=audit(1.0): denied { read } op=open path=2F612062 label=unlabeled "
      "domain=globalVMDom(4) level=enforcing rule=\"no rule\" generation=1\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].rules[0].text, "-r /a b r");
}

TEST(SuggestTest, MalformedRecordsAreSkippedWithWarnings) {
  std::vector<std::string> warnings;
  auto s = Suggest("type=SPT_AVC msg=audit(1.0): denied { read } op=open domain=globalVMDom(4)\n" +
                       Line("denied", "read", "/tmp/ok"),
                   false, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("audit.log:1: skipped: no absolute path= field", 0), 0u)
      << warnings[0];
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].rules[0].text, "-r /tmp/ok r");
}

TEST(SuggestTest, OnlyMalformedRecordsIsAnError) {
  std::vector<DomainSuggestion> out;
  std::vector<std::string> warnings;
  Status st = SuggestRules(
      "type=SPT_AVC msg=audit(1.0): denied { none } op=open path=\"/x\" "
      "domain=globalVMDom(4)\n",
      SuggestOptions{}, &out, &warnings);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no readable denial record"), std::string::npos);
}

TEST(SuggestTest, NoDenialsSaysSo) {
  auto s = Suggest("type=SPT_EVENT msg=audit(1.0): op=load generation=1\n");
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(FormatSuggestions(s), "# no denials recorded: nothing to suggest\n");
}

std::string Recorded(const std::string& name) {
  std::ifstream in(std::string(SPTFS_EXPLAIN_TESTDATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

std::vector<std::string> Texts(const DomainSuggestion& s) {
  std::vector<std::string> t;
  for (const SuggestedRule& r : s.rules) t.push_back(r.text);
  return t;
}

const SuggestedRule* Find(const DomainSuggestion& s, const std::string& text) {
  for (const SuggestedRule& r : s.rules) {
    if (r.text == text) return &r;
  }
  return nullptr;
}

// Issue 14.6, 19.2, 19.3: a warning-level learning run (recorded log) gives the least
// privilege: per-file rules merged with today's rule, a listing apart, generated names
// as their directory, the label alone where the -r rule grants, every socket rule.
TEST(SuggestRecordedTest, LearningRunGivesLeastPrivilege) {
  auto s = Suggest(Recorded("learning_run.log"));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].domain, "webDom");
  EXPECT_EQ(s[0].denials, 11);
  EXPECT_EQ(Texts(s[0]), (std::vector<std::string>{
                             "-r /etc/passwd r",
                             "-r /lib/x86_64-linux-gnu/libssl.so.3 rx",
                             "-r / r",
                             "-r /tmp rw",
                             "-o sslKeyObj r",
                             "-c inet_stream_socket_create grant",
                             "-p inet_socket_bind loopback grant",
                             "socketSys grant",
                         }));
  // The listing of / is its own case and says it opens the whole tree.
  const SuggestedRule* root = Find(s[0], "-r / r");
  ASSERT_NE(root, nullptr);
  EXPECT_NE(root->wider.find("the whole tree"), std::string::npos) << root->wider;
  // libssl keeps the x of the rule that decides there today.
  const SuggestedRule* lib = Find(s[0], "-r /lib/x86_64-linux-gnu/libssl.so.3 rx");
  ASSERT_NE(lib, nullptr);
  EXPECT_NE(lib->why.find("keeps x of -r /lib/x86_64-linux-gnu x"), std::string::npos) << lib->why;
  EXPECT_TRUE(lib->wider.empty());
  // Generated names: the directory, said to be wider.
  const SuggestedRule* tmp = Find(s[0], "-r /tmp rw");
  ASSERT_NE(tmp, nullptr);
  EXPECT_NE(tmp->wider.find("ccJUXiWL.s"), std::string::npos) << tmp->wider;
  // Warning level proves nothing about surviving: no dontaudit offered.
  for (const SuggestedRule& r : s[0].rules) EXPECT_TRUE(r.dontaudit.empty()) << r.text;
  ASSERT_EQ(s[0].notes.size(), 1u);
  EXPECT_NE(s[0].notes[0].find("no rule grants AF_NETLINK sockets"), std::string::npos);
  std::string text = FormatSuggestions(s);
  EXPECT_NE(text.find("# wider than denied: listing / needs r"), std::string::npos) << text;
  EXPECT_NE(text.find("# no rule: socket(AF_NETLINK, SOCK_DGRAM): no rule grants AF_NETLINK"),
            std::string::npos)
      << text;
}

// An executable mapping as spt-run reports it (src/control/commands.cc, "sandbox exec").
std::string MmapLine(const std::string& verdict, const std::string& path,
                     const std::string& rule = "no rule") {
  return "type=SPT_SANDBOX msg=audit(1700000000.200): " + verdict +
         " op=\"mmap\" asked=\"map executable " + path + "\" path=\"" + path +
         "\" requested=x pid=42 tid=42 comm=\"nginx\" exe=\"/usr/sbin/nginx\" uid=0 "
         "domain=nginxDom(50) level=warning rule=\"" +
         rule + "\" missing=\"x on " + path + "\" generation=1\n";
}

// Issue 19.2: the loader opens a library (r) and maps it executable (x, an SPT_SANDBOX
// record): both are file accesses of one path, so one -r rule with rx. They once
// became a "no rule" note, and a learning run never ended.
TEST(SuggestTest, ExecutableMappingIsAnXRuleMergedWithTheOpen) {
  const std::string lib = "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0.11.2";
  auto s = Suggest(Line("warning", "read", lib, "nginxDom(50)") + MmapLine("warning", lib));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].denials, 2);
  EXPECT_EQ(Texts(s[0]), (std::vector<std::string>{"-r " + lib + " rx"}));
  EXPECT_EQ(s[0].rules[0].why, "mmap,open rx (2 denials)");
  EXPECT_TRUE(s[0].notes.empty());
  // Alone, and under a rule that grants r there today: x added, r kept.
  auto alone = Suggest(MmapLine("denied", lib, "-r /usr r"));
  EXPECT_EQ(Texts(alone[0]), (std::vector<std::string>{"-r " + lib + " rx"}));
}

// The first warning run of Debian's nginx in an empty domain, recorded by
// tests/integration/domains/test_learn_nginx.py: every record gives a rule (libraries
// rx from open + mmap), nothing is left as a note, and these rules are all the
// enforcing run needed (the integration test checks that part for real).
TEST(SuggestRecordedTest, NginxLearningRunGivesEveryRule) {
  std::vector<std::string> warnings;
  auto s = Suggest(Recorded("nginx_learning_run.log"), false, &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].domain, "nginxDom");
  EXPECT_EQ(s[0].denials, 54);
  const std::string lib = "/usr/lib/x86_64-linux-gnu/";
  EXPECT_EQ(Texts(s[0]), (std::vector<std::string>{
                             "-r /etc/group r",
                             "-r /etc/ld.so.cache r",
                             "-r /etc/nginx/mime.types r",
                             "-r /etc/nsswitch.conf r",
                             "-r /etc/passwd r",
                             "-r /etc/ssl/openssl.cnf r",
                             "-r /srv/nginx/log/access.log w",
                             "-r /srv/nginx/nginx.conf r",
                             "-r /srv/nginx/run/nginx.pid rw",
                             "-r /srv/nginx/tmp/body w",
                             "-r /srv/nginx/tmp/fastcgi w",
                             "-r /srv/nginx/tmp/proxy w",
                             "-r /srv/nginx/tmp/scgi w",
                             "-r /srv/nginx/tmp/uwsgi w",
                             "-r /srv/www/hello.txt r",
                             "-r /srv/www/index.html r",
                             "-r " + lib + "ld-linux-x86-64.so.2 x",
                             "-r " + lib + "libc.so.6 rx",
                             "-r " + lib + "libcap.so.2.66 rx",
                             "-r " + lib + "libcrypt.so.1.1.0 rx",
                             "-r " + lib + "libcrypto.so.3 rx",
                             "-r " + lib + "libm.so.6 rx",
                             "-r " + lib + "libnss_systemd.so.2 rx",
                             "-r " + lib + "libpcre2-8.so.0.11.2 rx",
                             "-r " + lib + "libssl.so.3 rx",
                             "-r " + lib + "libz.so.1.2.13 rx",
                             "-r /usr/sbin/nginx x",
                             "-r /usr/share/zoneinfo/Etc/UTC r",
                             "-c inet_stream_socket_create grant",
                             "-c unix_socket_create grant",
                             "-p inet_socket_bind loopback grant",
                         }));
  EXPECT_TRUE(s[0].notes.empty()) << s[0].notes[0];
  // The master's socketpair and nscd probes, the worker's socketpair: one rule.
  const SuggestedRule* unix_sock = Find(s[0], "-c unix_socket_create grant");
  ASSERT_NE(unix_sock, nullptr);
  EXPECT_NE(unix_sock->why.find("socketpair(AF_UNIX, SOCK_STREAM)"), std::string::npos)
      << unix_sock->why;
  // Warning level: nothing is offered as dontaudit.
  for (const SuggestedRule& r : s[0].rules) EXPECT_TRUE(r.dontaudit.empty()) << r.text;
}

TEST(SuggestRecordedTest, GlobReplacesTheDecidingRuleWithMergedPerms) {
  // After -r /lib/x86_64-linux-gnu x a read below must give rx, never r (issue 19.3).
  auto s = Suggest(Recorded("learning_run.log"), true);
  const SuggestedRule* lib = Find(s[0], "-r /lib/x86_64-linux-gnu rx");
  ASSERT_NE(lib, nullptr) << FormatSuggestions(s);
  EXPECT_NE(lib->why.find("replaces -r /lib/x86_64-linux-gnu x"), std::string::npos) << lib->why;
  EXPECT_EQ(Find(s[0], "-r /lib/x86_64-linux-gnu r"), nullptr);
  EXPECT_FALSE(Find(s[0], "-r /etc rw") == nullptr && Find(s[0], "-r /etc r") == nullptr);
}

TEST(SuggestRecordedTest, PolicyGivesTheRuleThatDecidesToday) {
  // -r /work/proj/prog x under -r /work rw took rw away below it (issue 19.3).
  auto policy = testing::CompileOrDie(
      testing::Set({testing::Dom("webDom", 40, {"-r /work rw", "-r /lib x"})}), LiteralTree());
  SuggestOptions o;
  o.policy = policy.get();
  auto s = Suggest(Line("denied", "execute", "/work/proj/prog", "webDom(40)") +
                       Line("denied", "read", "/lib/libc.so.6", "webDom(40)"),
                   false, nullptr, o);
  EXPECT_EQ(Texts(s[0]),
            (std::vector<std::string>{"-r /lib/libc.so.6 rx", "-r /work/proj/prog rwx"}));
  // Without the policy, the record's rule="no rule" is all there is.
  auto bare = Suggest(Line("denied", "execute", "/work/proj/prog", "webDom(40)"));
  EXPECT_EQ(Texts(bare[0]), (std::vector<std::string>{"-r /work/proj/prog x"}));
}

TEST(SuggestRecordedTest, ListingNeverAbsorbsNarrowerRules) {
  // One `ls /` once gave "-r / r" alone (issue 14.6).
  auto s = Suggest(Line("denied", "read", "/", "webDom(40)", "unlabeled", "opendir") +
                   Line("denied", "read", "/data/x", "webDom(40)"));
  EXPECT_EQ(Texts(s[0]), (std::vector<std::string>{"-r /data/x r", "-r / r"}));
}

TEST(SuggestRecordedTest, SurvivedDenialsOfferDontaudit) {
  auto s = Suggest(Recorded("enforcing_run.log"));
  ASSERT_EQ(s.size(), 1u);
  const SuggestedRule* unix_sock = Find(s[0], "-c unix_socket_create grant");
  ASSERT_NE(unix_sock, nullptr);
  EXPECT_EQ(unix_sock->dontaudit, "-c unix_socket_create dontaudit");
  const SuggestedRule* nss = Find(s[0], "-r /etc/nsswitch.conf r");
  ASSERT_NE(nss, nullptr);
  EXPECT_EQ(nss->dontaudit, "-r /etc/nsswitch.conf r dontaudit");
  // The process's last record: nothing says it went on.
  const SuggestedRule* group = Find(s[0], "-r /etc/group r");
  ASSERT_NE(group, nullptr);
  EXPECT_TRUE(group->dontaudit.empty());
  SuggestOptions o;
  o.prefer_dontaudit = true;
  auto quiet = Suggest(Recorded("enforcing_run.log"), false, nullptr, o);
  EXPECT_NE(Find(quiet[0], "-c unix_socket_create dontaudit"), nullptr);
  EXPECT_NE(Find(quiet[0], "-r /etc/nsswitch.conf r dontaudit"), nullptr);
  EXPECT_NE(Find(quiet[0], "-r /etc/group r"), nullptr);
}

TEST(SuggestRecordedTest, HardLinkSubsetRefusalIsExplainedNotGranted) {
  auto s = Suggest(Recorded("enforcing_run.log"));
  for (const SuggestedRule& r : s[0].rules) {
    EXPECT_EQ(r.text.find("/data/pub"), std::string::npos) << r.text;
  }
  ASSERT_EQ(s[0].notes.size(), 1u);
  EXPECT_NE(s[0].notes[0].find("link subset rule"), std::string::npos) << s[0].notes[0];
  EXPECT_NE(s[0].notes[0].find("/data/keys/k"), std::string::npos) << s[0].notes[0];
}

TEST(SuggestRecordedTest, GeneratedNames) {
  for (const char* p :
       {"/tmp/ccJUXiWL.s", "/tmp/tmpa1B2c3", "/run/sess_8f3a9c2d1e", "/tmp/cc7Qm2Xa.o"}) {
    EXPECT_TRUE(LooksGenerated(p)) << p;
  }
  for (const char* p : {"/src/Makefile", "/README", "/lib/libc.so.6", "/lib/libQt5Core.so.5",
                        "/src/main.c", "/var/log/syslog", "/tmp/123456", "/etc/passwd"}) {
    EXPECT_FALSE(LooksGenerated(p)) << p;
  }
}

// Issue 19.3: --check warns about a longer rule that grants less than the one it shadows.
TEST(NarrowingTest, WarnsUnlessCarveOutOrMarked) {
  PolicySet set =
      testing::Set({testing::Dom("webDom", 40,
                                 {"-r /work rw", "-r /work/proj/prog x", "-r /work/secret ",
                                  "-r /work/proj/doc r", "-r /work/proj/bin rwx"})});
  auto policy = testing::CompileOrDie(set, LiteralTree());
  std::vector<std::string> w = NarrowingWarnings(*policy);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("'-r /work/proj/prog x' grants less than '-r /work rw'"), std::string::npos)
      << w[0];
  EXPECT_NE(w[0].find("removes rw below /work/proj/prog"), std::string::npos) << w[0];
  EXPECT_EQ(w[0].rfind("test.toml:1: ", 0), 0u) << w[0];
  EXPECT_NE(w[1].find("/work/proj/doc"), std::string::npos) << w[1];
  set.domains[1].narrows = {"/work/proj/prog", "/work/proj/doc"};
  EXPECT_TRUE(NarrowingWarnings(*testing::CompileOrDie(set, LiteralTree())).empty());
}

}  // namespace
}  // namespace sptfs
