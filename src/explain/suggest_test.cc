#include "explain/suggest.h"

#include <gtest/gtest.h>

#include "explain/audit_fields.h"

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
                                      std::vector<std::string>* warnings = nullptr) {
  std::vector<DomainSuggestion> out;
  std::vector<std::string> w;
  SuggestOptions options;
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
  EXPECT_NE(st.message().find("no readable access record"), std::string::npos);
}

TEST(SuggestTest, NoDenialsSaysSo) {
  auto s = Suggest("type=SPT_EVENT msg=audit(1.0): op=load generation=1\n");
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(FormatSuggestions(s), "# no denials recorded: nothing to suggest\n");
}

}  // namespace
}  // namespace sptfs
