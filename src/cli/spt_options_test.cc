#include "cli/spt_options.h"

#include <gtest/gtest.h>

namespace sptfs {
namespace {

SptOptions Parse(std::vector<std::string> args) {
  SptOptions o;
  Status s = ParseSptArgs(args, &o);
  EXPECT_TRUE(s.ok()) << s.message();
  return o;
}

std::string Error(std::vector<std::string> args) {
  SptOptions o;
  o.argument = "untouched";
  Status s = ParseSptArgs(args, &o);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(o.argument, "untouched");
  return s.message();
}

TEST(SptArgs, ShortAndLongFormsOfEverySeedOption) {
  struct Case {
    std::vector<std::string> args;
    SptCommand command;
    std::string argument;
  } cases[] = {
      {{"-r"}, SptCommand::kReset, ""},
      {{"--reset"}, SptCommand::kReset, ""},
      {{"-p"}, SptCommand::kLoadPolicy, ""},
      {{"-p/etc/x"}, SptCommand::kLoadPolicy, "/etc/x"},
      {{"-p", "/etc/x"}, SptCommand::kLoadPolicy, "/etc/x"},
      {{"--load-policy=/etc/x"}, SptCommand::kLoadPolicy, "/etc/x"},
      {{"-d"}, SptCommand::kDisplayPolicy, ""},
      {{"-d4"}, SptCommand::kDisplayPolicy, "4"},
      {{"-d", "4"}, SptCommand::kDisplayPolicy, "4"},
      {{"--display-policy", "globalVMDom"}, SptCommand::kDisplayPolicy, "globalVMDom"},
      {{"--display-policy=4"}, SptCommand::kDisplayPolicy, "4"},
      {{"-D", "globalVMDom"}, SptCommand::kLookupDomain, "globalVMDom"},
      {{"-DglobalVMDom"}, SptCommand::kLookupDomain, "globalVMDom"},
      {{"--lookup-domain", "x"}, SptCommand::kLookupDomain, "x"},
      {{"-O", "appObj"}, SptCommand::kLookupObject, "appObj"},
      {{"--lookup-object=appObj"}, SptCommand::kLookupObject, "appObj"},
      {{"-l"}, SptCommand::kListLabels, ""},
      {{"--list-labels"}, SptCommand::kListLabels, ""},
      {{"-k"}, SptCommand::kKeywords, ""},
      {{"--keywords"}, SptCommand::kKeywords, ""},
      {{"-g", "/f"}, SptCommand::kGetLabel, "/f"},
      {{"--get-label", "/f"}, SptCommand::kGetLabel, "/f"},
      {{"-N", "vmA"}, SptCommand::kNewDomain, "vmA"},
      {{"--new-dom", "vmA"}, SptCommand::kNewDomain, "vmA"},
      {{"-C", "vmA"}, SptCommand::kDeleteDomain, "vmA"},
      {{"--del-dom", "vmA"}, SptCommand::kDeleteDomain, "vmA"},
      {{"-h"}, SptCommand::kHelp, ""},
      {{"--help"}, SptCommand::kHelp, ""},
      {{"--check", "policies/esxi"}, SptCommand::kCheck, "policies/esxi"},
      {{"--ps"}, SptCommand::kPs, ""},
      {{}, SptCommand::kNone, ""},
  };
  for (const Case& c : cases) {
    SptOptions o = Parse(c.args);
    EXPECT_EQ(o.command, c.command) << (c.args.empty() ? "" : c.args[0]);
    EXPECT_EQ(o.argument, c.argument) << (c.args.empty() ? "" : c.args[0]);
  }
}

TEST(SptArgs, LabelOptions) {
  SptOptions s = Parse({"-s", "/bin/tpm2emu", "-L", "tpm2emuObj"});
  EXPECT_EQ(s.command, SptCommand::kSetLabel);
  EXPECT_EQ(s.argument, "/bin/tpm2emu");
  EXPECT_EQ(s.label, "tpm2emuObj");
  SptOptions t = Parse({"--label=x", "--set-tag", "svc"});
  EXPECT_EQ(t.command, SptCommand::kSetTag);
  EXPECT_EQ(t.label, "x");
  EXPECT_NE(Error({"-s", "/f"}).find("needs -L"), std::string::npos);
  EXPECT_NE(Error({"-l", "-L", "x"}).find("only used with -s or -T"), std::string::npos);
}

TEST(SptArgs, OurLongOptions) {
  SptOptions o =
      Parse({"--policy", "p", "--root=/r", "--json", "-d4", "--mount", "/m", "--socket", "/s"});
  EXPECT_EQ(o.policy_dir, "p");
  EXPECT_EQ(o.root, "/r");
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.mount, "/m");
  EXPECT_EQ(o.socket, "/s");
  EXPECT_EQ(o.argument, "4");
  SptOptions why = Parse({"--why", "globalVMDom", "/tmp/x", "rw"});
  EXPECT_EQ(why.command, SptCommand::kWhy);
  EXPECT_EQ(why.operands, (std::vector<std::string>{"globalVMDom", "/tmp/x", "rw"}));
  for (const char* c : {"--suggest", "--import"}) {
    EXPECT_EQ(Parse({c, "x"}).operands.size(), 1u) << c;
  }
  EXPECT_EQ(Parse({"--why", "--", "-weird"}).operands[0], "-weird");
}

TEST(SptArgs, AuditMark) {
  SptOptions o = Parse({"--audit-mark", "a b"});
  EXPECT_EQ(o.command, SptCommand::kAuditMark);
  EXPECT_EQ(o.argument, "a b");
  EXPECT_EQ(Parse({"--audit-mark=x"}).argument, "x");
  EXPECT_FALSE(IsSptQuery(SptCommand::kAuditMark));
  EXPECT_EQ(SptCommandName(SptCommand::kAuditMark), "--audit-mark");
  EXPECT_NE(Error({"--audit-mark"}), "");
}

TEST(SptArgs, StaleAndDryRun) {
  EXPECT_EQ(Parse({"--stale"}).command, SptCommand::kStale);
  EXPECT_TRUE(IsSptQuery(SptCommand::kStale));
  SptOptions o = Parse({"-p", "--dry-run"});
  EXPECT_EQ(o.command, SptCommand::kLoadPolicy);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.argument, "");
  EXPECT_EQ(Parse({"-p", "--dry-run", "/etc/pol"}).argument, "/etc/pol");
  EXPECT_EQ(Parse({"-p/etc/pol", "--dry-run"}).argument, "/etc/pol");
  EXPECT_EQ(Parse({"--dry-run", "-p", "/etc/pol"}).argument, "/etc/pol");
  EXPECT_FALSE(Parse({"-p"}).dry_run);
  EXPECT_EQ(Error({"-l", "--dry-run"}), "--dry-run is only used with -p");
  EXPECT_EQ(Parse({"-p", "--dry-run", "--log", "/var/log/a.log"}).log, "/var/log/a.log");
  EXPECT_EQ(Error({"-p", "--log", "/a.log"}), "--log is only used with -p --dry-run");
  EXPECT_EQ(Error({"-p", "--dry-run", "/a", "/b"}), "unexpected argument '/a'");
}

TEST(SptArgs, GraphAndVersion) {
  SptOptions g = Parse({"--graph", "--domain", "globalVMDom", "--svg=/tmp/g.svg"});
  EXPECT_EQ(g.command, SptCommand::kGraph);
  EXPECT_EQ(g.graph_domain, "globalVMDom");
  EXPECT_EQ(g.svg, "/tmp/g.svg");
  EXPECT_TRUE(g.operands.empty());
  EXPECT_EQ(Parse({"--version"}).command, SptCommand::kVersion);
  EXPECT_NE(Error({"-l", "--domain", "x"}).find("--domain is only used with --graph"),
            std::string::npos);
  EXPECT_NE(Error({"-d", "--svg", "f"}).find("--svg is only used with --graph"), std::string::npos);
  EXPECT_NE(Error({"--graph", "--json", "--svg", "f"}).find("together"), std::string::npos);
  EXPECT_NE(Error({"--graph", "stray"}).find("unexpected argument 'stray'"), std::string::npos);
  EXPECT_NE(Error({"--graph", "--domain"}).find("needs a value"), std::string::npos);
}

TEST(SptArgs, UsageErrors) {
  EXPECT_NE(Error({"-x"}).find("unknown option '-x'"), std::string::npos);
  EXPECT_NE(Error({"--frobnicate"}).find("unknown option '--frobnicate'"), std::string::npos);
  EXPECT_NE(Error({"-D"}).find("-D needs a value"), std::string::npos);
  EXPECT_NE(Error({"--policy"}).find("needs a value"), std::string::npos);
  EXPECT_NE(Error({"-l", "-k"}).find("one command at a time"), std::string::npos);
  EXPECT_NE(Error({"-lk"}).find("one option per word"), std::string::npos);
  EXPECT_NE(Error({"--json=yes"}).find("takes no value"), std::string::npos);
  EXPECT_NE(Error({"-l", "stray"}).find("unexpected argument 'stray'"), std::string::npos);
}

TEST(SptArgs, QueriesAndNames) {
  EXPECT_TRUE(IsSptQuery(SptCommand::kListLabels));
  EXPECT_TRUE(IsSptQuery(SptCommand::kDisplayPolicy));
  EXPECT_FALSE(IsSptQuery(SptCommand::kReset));
  EXPECT_FALSE(IsSptQuery(SptCommand::kSetLabel));
  EXPECT_EQ(SptCommandName(SptCommand::kLookupObject), "-O");
  EXPECT_EQ(SptCommandName(SptCommand::kCheck), "--check");
}

}  // namespace
}  // namespace sptfs
