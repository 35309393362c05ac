#include "explain/import.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace sptfs {
namespace {

std::string ReadSeedListing() {
  std::ifstream in(std::string(SPTFS_EXPLAIN_TESTDATA) + "/seed_d4.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ImportTest, SeedListingBecomesGlobalVMDom) {
  std::string text = ReadSeedListing();
  ASSERT_FALSE(text.empty());
  std::vector<ImportedDomain> domains;
  Status s = ParseSecpolicyDump(text, "seed_d4.txt", &domains);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(domains.size(), 1u);
  const ImportedDomain& d = domains[0];
  EXPECT_EQ(d.name, "globalVMDom");
  EXPECT_EQ(d.id, 4u);
  EXPECT_EQ(d.level, Level::kEnforcing);
  // 14 -c, 1 -d, 3 -p, 32 -r in the seed.
  ASSERT_EQ(d.rules.size(), 50u);
  EXPECT_EQ(d.rules.front().ToString(), "-c dgram_vsocket_bind grant");
  EXPECT_EQ(d.rules.back().ToString(), "-r /bin/vmx-debug rx");
  // Every rule line of the listing comes back byte for byte (incl. the trailing space).
  std::string again;
  for (const Rule& r : d.rules) again += r.ToString() + "\n";
  for (const char* line :
       {"-r /var/run/inetd.conf \n", "-d tpm2emuObj tpm2emuDom file_exec grant\n",
        "-p inet_socket_connect loopback grant\n", "-r /bin/vmx rx\n"}) {
    EXPECT_NE(again.find(line), std::string::npos) << line;
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

TEST(ImportTest, DomainTomlKeepsRulesInOrder) {
  std::vector<ImportedFile> files;
  Status s = ImportSecpolicyDump(ReadSeedListing(), "seed_d4.txt", &files);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].name, "globalVMDom.toml");
  const std::string& t = files[0].text;
  EXPECT_NE(t.find("name = \"globalVMDom\"\nid = 4\nlevel = \"enforcing\"\n"), std::string::npos)
      << t;
  EXPECT_NE(t.find("  \"-r /var/run/inetd.conf \",\n"), std::string::npos);
  EXPECT_LT(t.find("-c vsocket_provide_service"), t.find("-d tpm2emuObj"));
}

TEST(ImportTest, SeveralDomains) {
  std::vector<ImportedDomain> d;
  Status s = ParseSecpolicyDump(
      "Policy set in the kernel\n\n"
      "Domain Name: appDom Domain ID :2 Enforcement Level: warning\n"
      "State: 3 RefCount: 2 WorldRefCount: 1\n-r /tmp rw\n\n"
      "Domain Name: ntpdDom Domain ID :7 Enforcement Level: disabled\n-c unix_socket_create "
      "grant\n",
      "dump", &d);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].level, Level::kWarning);
  EXPECT_EQ(d[1].name, "ntpdDom");
  EXPECT_EQ(d[1].level, Level::kDisabled);
  EXPECT_EQ(d[1].rules.size(), 1u);
}

// Each class of bad input: a file:line error, and nothing produced.
TEST(ImportTest, BadInputNamesLine) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"", "dump: no domain found"},
      {"-r /tmp rw\n", "dump:1: rule before any domain header"},
      {"Domain Name: x Domain ID :z Enforcement Level: enforcing\n",
       "dump:1: malformed domain header"},
      {"Domain Name: x Domain ID :1 Enforcement Level: sleepy\n",
       "dump:1: unknown enforcement level 'sleepy'"},
      {"Domain Name: x Domain ID :70000 Enforcement Level: enforcing\n",
       "dump:1: domain id 70000 out of range"},
      {"Domain Name: x Domain ID :1 Enforcement Level: enforcing\n"
       "Domain Name: x Domain ID :2 Enforcement Level: enforcing\n",
       "dump:2: domain x (id 2) listed twice"},
      {"Domain Name: x Domain ID :1 Enforcement Level: enforcing\n\n-r /tmp rwz\n", "dump:3:"},
      {"Domain Name: x Domain ID :1 Enforcement Level: enforcing\n-q nonsense\n", "dump:2:"},
  };
  for (const Case& c : cases) {
    std::vector<ImportedDomain> out;
    Status s = ParseSecpolicyDump(c.text, "dump", &out);
    EXPECT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.message().rfind(c.error, 0), 0u) << s.message();
    EXPECT_TRUE(out.empty());
  }
}

}  // namespace
}  // namespace sptfs
