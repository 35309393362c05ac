#include "policy/loader.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "policy/test_util.h"

namespace sptfs {
namespace {

// A valid set; each test breaks one file and checks the "file:line: ... (expected ...)".
class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("policy.toml",
               "default_domain = \"superDom\"\n"  // line 1
               "[[label]]\n"                      // 2
               "name = \"appObj\"\n"              // 3
               "id = 3117\n"                      // 4
               "[[label]]\n"                      // 5
               "name = \"unlabeled\"\n"           // 6
               "id = 0\n");                       // 7
    dir_.Write("domains/superDom.toml", "name = \"superDom\"\nid = 0\nunconfined = true\n");
    WriteVm("\"-r /tmp rw\",");
    dir_.Write("default-labels.toml", "[[default]]\npath = \"/opt\"\nlabel = \"appObj\"\n");
  }
  // domains/vm.toml with `rule_line` as the only rule, on line 5.
  void WriteVm(const std::string& rule_line) {
    dir_.Write("domains/vm.toml",
               "name = \"vm\"\nid = 4\nlevel = \"enforcing\"\nrules = [\n" + rule_line + "\n]\n");
  }
  std::string File(const std::string& rel) const { return dir_.path() + "/" + rel; }
  // Loads, expects failure, checks the message starts with file:line and names what
  // is expected; the output set stays untouched.
  std::string Fails(const std::string& rel, int line) {
    PolicySet set;
    set.default_domain = "untouched";
    Status s = LoadPolicySet(dir_.path(), &set);
    EXPECT_FALSE(s.ok());
    std::string prefix = File(rel) + ":" + std::to_string(line) + ": ";
    EXPECT_EQ(s.message().rfind(prefix, 0), 0u) << s.message() << "\nwanted prefix " << prefix;
    EXPECT_NE(s.message().find("(expected "), std::string::npos) << s.message();
    EXPECT_EQ(set.default_domain, "untouched");
    return s.message();
  }
  testing::TempDir dir_;
};

TEST_F(LoaderTest, LoadsAValidSet) {
  PolicySet set;
  Status s = LoadPolicySet(dir_.path(), &set);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(set.default_domain, "superDom");
  ASSERT_EQ(set.labels.size(), 2u);
  ASSERT_EQ(set.domains.size(), 2u);
  const DomainSpec& vm = set.domains[1];
  EXPECT_EQ(vm.name, "vm");
  EXPECT_EQ(vm.where.file, File("domains/vm.toml"));
  ASSERT_EQ(vm.rules.size(), 1u);
  EXPECT_EQ(vm.rules[0].where.line, 5);
  EXPECT_TRUE(set.domains[0].unconfined);
  ASSERT_EQ(set.default_labels.size(), 1u);
  EXPECT_EQ(set.default_labels[0].label, "appObj");
}

TEST_F(LoaderTest, UnlabeledIsAddedWhenMissing) {
  dir_.Write("policy.toml", "default_domain = \"superDom\"\n");
  std::filesystem::remove(File("default-labels.toml"));  // optional; it names appObj
  PolicySet set;
  ASSERT_TRUE(LoadPolicySet(dir_.path(), &set).ok());
  ASSERT_EQ(set.labels.size(), 1u);
  EXPECT_EQ(set.labels[0].name, "unlabeled");
}

TEST_F(LoaderTest, OnStaleDefaultsToWarnAndTakesReload) {
  PolicySet set;
  ASSERT_TRUE(LoadPolicySet(dir_.path(), &set).ok());
  EXPECT_EQ(set.on_stale, OnStale::kWarn);
  dir_.Write("policy.toml", "default_domain = \"superDom\"\non_stale = \"reload\"\n");
  std::filesystem::remove(File("default-labels.toml"));
  ASSERT_TRUE(LoadPolicySet(dir_.path(), &set).ok());
  EXPECT_EQ(set.on_stale, OnStale::kReload);
}

TEST_F(LoaderTest, OnStaleRejectsOtherValues) {
  dir_.Write("policy.toml", "default_domain = \"superDom\"\non_stale = \"widen\"\n");
  std::string msg = Fails("policy.toml", 2);
  EXPECT_NE(msg.find("on_stale = \"warn\" or \"reload\""), std::string::npos) << msg;
}

TEST_F(LoaderTest, BadToml) {
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 4\nrules = [ \"-r /tmp rw\"\n\nlevel = \n");
  EXPECT_NE(Fails("domains/vm.toml", 5).find("bad TOML"), std::string::npos);
}

TEST_F(LoaderTest, UnknownKeyword) {
  WriteVm("\"-q /tmp rw\",");
  EXPECT_NE(Fails("domains/vm.toml", 5).find("unknown keyword '-q'"), std::string::npos);
}

TEST_F(LoaderTest, BadPermsLetters) {
  WriteVm("\"-r /tmp\",\n\"-r /tmp rwa\",");
  EXPECT_NE(Fails("domains/vm.toml", 6).find("bad permissions 'rwa'"), std::string::npos);
}

TEST_F(LoaderTest, UnknownLabelInRule) {
  WriteVm("\"-o nopeObj r\",");
  EXPECT_NE(Fails("domains/vm.toml", 5).find("unknown object label 'nopeObj'"), std::string::npos);
}

TEST_F(LoaderTest, UnknownDomainInRule) {
  WriteVm("\"-d appObj ghostDom file_exec grant\",");
  EXPECT_NE(Fails("domains/vm.toml", 5).find("unknown domain 'ghostDom'"), std::string::npos);
}

TEST_F(LoaderTest, DuplicateDomainId) {
  dir_.Write("domains/vm2.toml", "name = \"vm2\"\n\nid = 4\n");
  EXPECT_NE(Fails("domains/vm2.toml", 3).find("duplicate domain id 4"), std::string::npos);
}

TEST_F(LoaderTest, DuplicateDomainName) {
  dir_.Write("domains/zz.toml", "name = \"vm\"\nid = 7\n");
  EXPECT_NE(Fails("domains/zz.toml", 1).find("duplicate domain name 'vm'"), std::string::npos);
}

TEST_F(LoaderTest, DuplicateLabelIdAndName) {
  dir_.Write("policy.toml",
             "default_domain = \"superDom\"\n[[label]]\nname = \"a\"\nid = 9\n"
             "[[label]]\nname = \"b\"\nid = 9\n");
  EXPECT_NE(Fails("policy.toml", 7).find("duplicate label id 9"), std::string::npos);
  dir_.Write("policy.toml",
             "default_domain = \"superDom\"\n[[label]]\nname = \"a\"\nid = 9\n"
             "[[label]]\nname = \"a\"\nid = 10\n");
  EXPECT_NE(Fails("policy.toml", 6).find("duplicate label name 'a'"), std::string::npos);
}

TEST_F(LoaderTest, IdOutOfRange) {
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 65536\n");
  EXPECT_NE(Fails("domains/vm.toml", 2).find("id 65536 out of range (expected 0..65535)"),
            std::string::npos);
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = -1\n");
  Fails("domains/vm.toml", 2);
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = \"4\"\n");
  EXPECT_NE(Fails("domains/vm.toml", 2).find("not an integer"), std::string::npos);
}

TEST_F(LoaderTest, UnlabeledMustBeZero) {
  dir_.Write("policy.toml", "default_domain = \"superDom\"\n[[label]]\nname = \"x\"\nid = 0\n");
  Fails("policy.toml", 4);
}

TEST_F(LoaderTest, EmptyNames) {
  dir_.Write("domains/vm.toml", "name = \"\"\nid = 4\n");
  EXPECT_NE(Fails("domains/vm.toml", 1).find("empty domain name"), std::string::npos);
  dir_.Write("domains/vm.toml", "name = \"v m\"\nid = 4\n");
  Fails("domains/vm.toml", 1);
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 4\n");
  dir_.Write("policy.toml", "default_domain = \"superDom\"\n[[label]]\nname = \"\"\nid = 3\n");
  EXPECT_NE(Fails("policy.toml", 3).find("empty label name"), std::string::npos);
}

TEST_F(LoaderTest, PathNotAbsolute) {
  WriteVm("\"-r tmp rw\",");
  EXPECT_NE(Fails("domains/vm.toml", 5).find("not absolute"), std::string::npos);
  WriteVm("");
  dir_.Write("default-labels.toml", "[[default]]\npath = \"opt\"\nlabel = \"appObj\"\n");
  EXPECT_NE(Fails("default-labels.toml", 2).find("not absolute"), std::string::npos);
}

TEST_F(LoaderTest, MissingRequiredKeys) {
  dir_.Write("domains/vm.toml", "name = \"vm\"\nlevel = \"warning\"\n");
  EXPECT_NE(Fails("domains/vm.toml", 1).find("missing required key 'id'"), std::string::npos);
  dir_.Write("domains/vm.toml", "id = 4\n");
  EXPECT_NE(Fails("domains/vm.toml", 1).find("missing required key 'name'"), std::string::npos);
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 4\n");
  dir_.Write("policy.toml", "[[label]]\nname = \"a\"\nid = 3\n");
  Fails("policy.toml", 1);
  dir_.Write("policy.toml", "default_domain = \"superDom\"\n\n[[label]]\nname = \"a\"\n");
  EXPECT_NE(Fails("policy.toml", 3).find("missing required key 'id'"), std::string::npos);
}

TEST_F(LoaderTest, UnknownKeysAndBadValues) {
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 4\nlevle = \"warning\"\n");
  EXPECT_NE(Fails("domains/vm.toml", 3).find("unknown key 'levle'"), std::string::npos);
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 4\nlevel = \"permissive\"\n");
  EXPECT_NE(Fails("domains/vm.toml", 3).find("bad level"), std::string::npos);
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 4\nunconfined = \"yes\"\n");
  Fails("domains/vm.toml", 3);
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 4\nrules = [\n  \"-r /a r\",\n  7,\n]\n");
  EXPECT_NE(Fails("domains/vm.toml", 5).find("rule is not a string"), std::string::npos);
}

TEST_F(LoaderTest, UnknownDefaultDomainAndDefaultLabel) {
  dir_.Write("policy.toml", "\ndefault_domain = \"ghost\"\n");
  EXPECT_NE(Fails("policy.toml", 2).find("unknown default domain 'ghost'"), std::string::npos);
  dir_.Write("policy.toml", "default_domain = \"superDom\"\n");
  dir_.Write("default-labels.toml", "[[default]]\npath = \"/opt\"\nlabel = \"ghostObj\"\n");
  EXPECT_NE(Fails("default-labels.toml", 2).find("unknown object label 'ghostObj'"),
            std::string::npos);
}

TEST_F(LoaderTest, MissingDirectoryOrPolicyFile) {
  PolicySet set;
  EXPECT_EQ(LoadPolicySet(dir_.path() + "/nope", &set).code(), Status::Code::kNotFound);
  std::filesystem::remove(File("policy.toml"));
  Status s = LoadPolicySet(dir_.path(), &set);
  EXPECT_EQ(s.code(), Status::Code::kIo);
  EXPECT_NE(s.message().find("policy.toml"), std::string::npos);
}

// The bundled sample: every domain and label of the seed with its exact id.
TEST(SamplePolicy, LoadsWithTheSeedsIdsAndLevels) {
  const char* source = std::getenv("SPTFS_SOURCE");
  ASSERT_NE(source, nullptr) << "run through meson test (SPTFS_SOURCE)";
  PolicySet set;
  Status s = LoadPolicySet(std::string(source) + "/policies/esxi", &set);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(set.domains.size(), 35u);
  EXPECT_EQ(set.labels.size(), 13u);
  EXPECT_EQ(set.default_domain, "superDom");
  for (const DomainSpec& d : set.domains) {
    EXPECT_EQ(d.level, Level::kEnforcing) << d.name;
    EXPECT_EQ(d.unconfined, d.name == "superDom") << d.name;
  }
}

}  // namespace
}  // namespace sptfs
