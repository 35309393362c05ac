#include "fs/mount_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

namespace sptfs {
namespace {

class MountConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcfgXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    unlink((dir_ + "/m.toml").c_str());
    rmdir(dir_.c_str());
  }
  Status Load(const std::string& text, MountConfig* cfg) {
    std::ofstream(dir_ + "/m.toml") << text;
    return LoadMountConfig(dir_ + "/m.toml", cfg);
  }
  std::string dir_;
};

TEST_F(MountConfigTest, ParsesMapsAndSettings) {
  MountConfig cfg;
  Status st = Load(
      "policy = \"pol\"\ndefault_domain = \"globalVMDom\"\naudit_log = \"/var/log/a\"\n"
      "[[map]]\nat = \"/lib/\"\nsource = \"/usr/lib\"\nread_only = true\n"
      "[[map]]\nat = \"/\"\nsource = \"root\"\n",
      &cfg);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(cfg.maps.size(), 2u);
  EXPECT_EQ(cfg.maps[0].at, "/");
  EXPECT_EQ(cfg.maps[0].source, dir_ + "/root");
  EXPECT_FALSE(cfg.maps[0].read_only);
  EXPECT_EQ(cfg.maps[1].at, "/lib");
  EXPECT_TRUE(cfg.maps[1].read_only);
  EXPECT_EQ(cfg.policy_dir, dir_ + "/pol");
  EXPECT_EQ(cfg.default_domain, "globalVMDom");
  EXPECT_EQ(cfg.audit_log, "/var/log/a");
}

TEST_F(MountConfigTest, FdBudget) {
  MountConfig cfg;
  Status st = Load("fd_budget = 300\n[[map]]\nat = \"/\"\nsource = \"/x\"\n", &cfg);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(cfg.fd_budget, 300u);
  MountConfig bad;
  st = Load("fd_budget = 0\n[[map]]\nat = \"/\"\nsource = \"/x\"\n", &bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("m.toml:1: fd_budget must be a positive integer"), std::string::npos)
      << st.message();
  EXPECT_EQ(bad.fd_budget, 0u);
  st = Load("fd_budget = \"many\"\n[[map]]\nat = \"/\"\nsource = \"/x\"\n", &bad);
  EXPECT_FALSE(st.ok());
}

TEST_F(MountConfigTest, ErrorsNameFileAndLine) {
  MountConfig cfg;
  cfg.policy_dir = "untouched";
  Status st = Load("[[map]]\nat = \"/\"\nsource = \"/x\"\nreadonly = true\n", &cfg);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("m.toml:4: unknown key 'readonly'"), std::string::npos)
      << st.message();
  EXPECT_EQ(cfg.policy_dir, "untouched");

  st =
      Load("[[map]]\nat = \"/a\"\nsource = \"/x\"\n[[map]]\nat = \"/a/\"\nsource = \"/y\"\n", &cfg);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("m.toml:4: two maps at /a"), std::string::npos) << st.message();

  st = Load("[[map]]\nat = \"relative\"\nsource = \"/x\"\n", &cfg);
  EXPECT_NE(st.message().find("m.toml:1: at 'relative' is not absolute"), std::string::npos)
      << st.message();

  st = Load("policy = 3\n[[map]]\nat = \"/\"\nsource = \"/x\"\n", &cfg);
  EXPECT_NE(st.message().find("m.toml:1: policy must be a string"), std::string::npos)
      << st.message();

  st = Load("[[map]\n", &cfg);
  EXPECT_NE(st.message().find("m.toml:1:"), std::string::npos) << st.message();

  st = Load("policy = \"p\"\n", &cfg);
  EXPECT_NE(st.message().find("no [[map]]"), std::string::npos) << st.message();
}

TEST(NormaliseTreePathTest, RejectsDots) {
  std::string out;
  EXPECT_TRUE(NormaliseTreePath("//a/b//", &out).ok());
  EXPECT_EQ(out, "/a/b");
  EXPECT_FALSE(NormaliseTreePath("/a/../b", &out).ok());
  EXPECT_FALSE(NormaliseTreePath("a", &out).ok());
}

}  // namespace
}  // namespace sptfs
