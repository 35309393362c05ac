// Byte-exactness against the seed: the expected listings are copied from
// reference/esxi-daemon-sandboxing.txt into testdata/ (the reference is not always
// next to a clone).
#include "cli/spt_query.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "policy/compiler.h"
#include "policy/loader.h"
#include "policy/test_util.h"

namespace sptfs {
namespace {

std::string Source() {
  const char* s = std::getenv("SPTFS_SOURCE");
  EXPECT_NE(s, nullptr) << "run through meson test (SPTFS_SOURCE)";
  return s ? s : ".";
}

std::string Fixture(const std::string& name) {
  std::ifstream in(Source() + "/src/cli/testdata/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class EsxiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PolicySet set;
    Status s = LoadPolicySet(Source() + "/policies/esxi", &set);
    ASSERT_TRUE(s.ok()) << s.message();
    LiteralTree tree;
    policy_ = testing::CompileOrDie(set, tree);
  }
  int Run(std::vector<std::string> args, std::string* out, std::string* err = nullptr) {
    SptOptions o;
    Status s = ParseSptArgs(args, &o);
    EXPECT_TRUE(s.ok()) << s.message();
    std::string ignored;
    return RunSptQuery(o, *policy_, live_, out, err ? err : &ignored);
  }
  std::shared_ptr<const CompiledPolicy> policy_;
  LiveStates live_;
};

TEST_F(EsxiTest, ListLabelsMatchesTheSeed) {
  std::string out;
  ASSERT_EQ(Run({"-l"}, &out), 0);
  EXPECT_EQ(out, Fixture("seed_list_labels.txt"));
}

TEST_F(EsxiTest, DisplayGlobalVMDomMatchesTheSeedPlusProductLocker) {
  std::string out;
  ASSERT_EQ(Run({"-d4"}, &out), 0);
  // The sample adds one rule for the productLocker scenario, listed last in -r.
  EXPECT_EQ(out, Fixture("seed_display_4.txt") + "-r /productLocker r\n");
  std::string by_name;
  ASSERT_EQ(Run({"--display-policy", "globalVMDom"}, &by_name), 0);
  EXPECT_EQ(by_name, out);
}

TEST_F(EsxiTest, DomainTableMatchesTheSeed) {
  EXPECT_EQ(FormatDomainTable(*policy_), Fixture("seed_domain_list.txt"));
}

TEST_F(EsxiTest, HelpStartsWithTheSeedsText) {
  std::string out;
  ASSERT_EQ(Run({"-h"}, &out), 0);
  std::string seed = Fixture("seed_help.txt");
  EXPECT_EQ(out.substr(0, seed.size()), seed);
  EXPECT_NE(out.find("--policy <dir>"), std::string::npos);
}

TEST_F(EsxiTest, LiveStateAppearsInTheHeader) {
  live_[4] = {3, 2, 7, {}};
  std::string out;
  ASSERT_EQ(Run({"-d", "4"}, &out), 0);
  EXPECT_NE(out.find("State: 3 RefCount: 2 WorldRefCount: 7\n"), std::string::npos);
}

TEST_F(EsxiTest, StaleRulesAreMarkedAndListed) {
  std::string out;
  ASSERT_EQ(Run({"--stale"}, &out), 0);
  EXPECT_EQ(out, "no stale rules\n");
  const CompiledDomain* d = policy_->FindDomain(4);
  size_t index = d->path_rules.size() - 1;  // -r /productLocker r, the last -r rule
  ASSERT_EQ(d->path_rules[index].source.path, "/productLocker");
  live_[4].stale[index] = "/vmfs/volumes/ds/productLocker";
  out.clear();
  ASSERT_EQ(Run({"-d4"}, &out), 0);
  EXPECT_EQ(out, Fixture("seed_display_4.txt") +
                     "-r /productLocker r\n"
                     "  # stale: /productLocker now resolves to /vmfs/volumes/ds/productLocker "
                     "(spt -p)\n");
  out.clear();
  ASSERT_EQ(Run({"-l"}, &out), 0);
  EXPECT_NE(out.find("\n4   globalVMDom   (1 stale rule: spt --stale)\n"), std::string::npos);
  out.clear();
  ASSERT_EQ(Run({"--stale"}, &out), 0);
  std::string where = d->path_rules[index].source.where.ToString();
  EXPECT_EQ(out, "globalVMDom(4) -r /productLocker r  [" + where +
                     "]\n"
                     "  compiled to:     /productLocker\n"
                     "  now resolves to: /vmfs/volumes/ds/productLocker\n"
                     "  fix:             spt -p (spt -p --dry-run shows what it changes)\n");
  out.clear();
  ASSERT_EQ(Run({"--stale", "--json"}, &out), 0);
  EXPECT_NE(out.find("\"rule\":\"-r /productLocker r\",\"path\":\"/productLocker\","
                     "\"compiled\":\"/productLocker\",\"now_resolves_to\":"
                     "\"/vmfs/volumes/ds/productLocker\""),
            std::string::npos)
      << out;
  out.clear();
  ASSERT_EQ(Run({"-d4", "--json"}, &out), 0);
  EXPECT_NE(out.find("\"stale\":true,\"now_resolves_to\":\"/vmfs/volumes/ds/productLocker\""),
            std::string::npos);
}

TEST_F(EsxiTest, DisplayAllListsEveryDomainInIdOrder) {
  std::string out;
  ASSERT_EQ(Run({"-d"}, &out), 0);
  size_t at = 0, count = 0;
  DomainId last = 0;
  while ((at = out.find("Domain ID :", at)) != std::string::npos) {
    DomainId id = static_cast<DomainId>(std::stoul(out.substr(at + 11)));
    EXPECT_TRUE(count == 0 || id > last);
    last = id;
    ++count;
    ++at;
  }
  EXPECT_EQ(count, 35u);
  EXPECT_EQ(out.rfind("Policy set in the kernel\n\nDomain Name: superDom Domain ID :0", 0), 0u);
}

TEST_F(EsxiTest, Lookups) {
  std::string out, err;
  ASSERT_EQ(Run({"-D", "globalVMDom"}, &out), 0);
  EXPECT_EQ(out, "4\n");
  out.clear();
  ASSERT_EQ(Run({"-O", "tpm2emuObj"}, &out), 0);
  EXPECT_EQ(out, "3122\n");
  out.clear();
  ASSERT_EQ(Run({"-D", "hostd304", "--json"}, &out), 0);
  EXPECT_EQ(out, "{\"name\":\"hostd304\",\"id\":78}\n");
  out.clear();
  EXPECT_EQ(Run({"-D", "nopeDom"}, &out, &err), 1);
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("unknown domain 'nopeDom'"), std::string::npos);
  EXPECT_EQ(Run({"-O", "nopeObj"}, &out, &err), 1);
  EXPECT_EQ(Run({"-d", "99"}, &out, &err), 1);
  EXPECT_EQ(Run({"-d", "nopeDom"}, &out, &err), 1);
  EXPECT_EQ(Run({"-r"}, &out, &err), 1);  // not a query
  EXPECT_NE(err.find("-r is not a read-only query"), std::string::npos);
}

TEST_F(EsxiTest, KeywordsListTheTable) {
  std::string out;
  ASSERT_EQ(Run({"-k"}, &out), 0);
  for (const Keyword& k : Keywords()) {
    EXPECT_NE(out.find(std::string(k.word) + " "), std::string::npos) << k.word;
  }
  std::string json;
  ASSERT_EQ(Run({"-k", "--json"}, &json), 0);
  EXPECT_NE(json.find("{\"word\":\"killSys\",\"kind\":\"syscall-class\""), std::string::npos);
}

TEST_F(EsxiTest, JsonForms) {
  std::string labels;
  ASSERT_EQ(Run({"-l", "--json"}, &labels), 0);
  EXPECT_EQ(labels.rfind("{\"labels\":[{\"name\":\"appObj\",\"id\":3117}", 0), 0u) << labels;
  EXPECT_NE(labels.find("{\"id\":78,\"name\":\"hostd304\",\"level\":\"enforcing\"}]}"),
            std::string::npos);
  std::string policy;
  ASSERT_EQ(Run({"-d4", "--json"}, &policy), 0);
  EXPECT_NE(policy.find("\"name\":\"globalVMDom\",\"id\":4,\"level\":\"enforcing\""),
            std::string::npos);
  EXPECT_NE(policy.find("{\"kind\":\"path\",\"text\":\"-r /var/run/inetd.conf \",\"path\":"
                        "\"/var/run/inetd.conf\",\"canonical\":\"/var/run/inetd.conf\","
                        "\"fully_resolved\":true,\"perms\":\"\""),
            std::string::npos)
      << policy;
  EXPECT_EQ(policy.find("superDom"), std::string::npos);  // only domain 4
}

TEST(Display, CompiledPathsShowTheLinkTarget) {
  MemoryTree tree;
  tree.AddDirectory("/run");
  tree.AddDirectory("/var");
  tree.AddSymlink("/var/run", "/run");
  auto p = testing::CompileOrDie(
      testing::Set({testing::Dom("d", 4, {"-r /var/run rw", "-c unix_socket_create grant"})}),
      tree);
  std::string compiled = FormatPolicy(*p, DomainId{4}, {});
  EXPECT_NE(compiled.find("-c unix_socket_create grant\n\n-r /run rw\n"), std::string::npos)
      << compiled;
  std::string source = FormatPolicy(*p, DomainId{4}, {}, false);
  EXPECT_NE(source.find("-r /var/run rw\n"), std::string::npos);
}

TEST(Display, GroupsInSeedOrderThenOurs) {
  LiteralTree tree;
  auto p = testing::CompileOrDie(
      testing::Set({testing::Dom("t", 5, {}),
                    testing::Dom("d", 4,
                                 {"genericSys grant", "-o appObj r", "-r /b r",
                                  "-p inet_socket_bind all grant", "-r /a ",
                                  "-d appObj t file_exec grant", "-c unix_socket_create grant"})}),
      tree);
  EXPECT_EQ(FormatPolicy(*p, DomainId{4}, {}),
            "Policy set in the kernel\n\n"
            "Domain Name: d Domain ID :4 Enforcement Level: enforcing\n"
            "State: 3 RefCount: 2 WorldRefCount: 0\n"
            "-c unix_socket_create grant\n\n"
            "-d appObj t file_exec grant\n\n"
            "-p inet_socket_bind all grant\n\n"
            "-r /b r\n-r /a \n\n"
            "-o appObj r\n\n"
            "genericSys grant\n");
}

}  // namespace
}  // namespace sptfs
