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

TEST_F(MountConfigTest, WorkerLoopSettings) {
  const std::string map = "[[map]]\nat = \"/\"\nsource = \"/x\"\n";
  MountConfig cfg;
  EXPECT_EQ(cfg.clone_fd, -1);  // not given: the daemon's default
  EXPECT_EQ(cfg.max_idle_threads, -1);
  Status st = Load("threads = 4\nclone_fd = true\nmax_idle_threads = 0\n" + map, &cfg);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(cfg.threads, 4);
  EXPECT_EQ(cfg.clone_fd, 1);
  EXPECT_EQ(cfg.max_idle_threads, 0);
  st = Load("clone_fd = false\n" + map, &cfg);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(cfg.clone_fd, 0);
  MountConfig bad;
  st = Load("clone_fd = 1\n" + map, &bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("m.toml:1: clone_fd must be true or false"), std::string::npos)
      << st.message();
  for (const char* v : {"-1", "1025", "\"two\""}) {
    st = Load(std::string("max_idle_threads = ") + v + "\n" + map, &bad);
    ASSERT_FALSE(st.ok()) << v;
    EXPECT_NE(st.message().find("m.toml:1: max_idle_threads must be an integer in 0..1024"),
              std::string::npos)
        << st.message();
  }
  EXPECT_EQ(bad.clone_fd, -1);
  EXPECT_EQ(bad.max_idle_threads, -1);
}

TEST_F(MountConfigTest, IoUring) {
  const std::string map = "[[map]]\nat = \"/\"\nsource = \"/x\"\n";
  MountConfig cfg;
  EXPECT_FALSE(cfg.io_uring);  // off unless asked for
  Status st = Load("io_uring = true\n" + map, &cfg);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(cfg.io_uring);
  st = Load("io_uring = false\n" + map, &cfg);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(cfg.io_uring);
  for (const char* v : {"1", "\"yes\""}) {
    MountConfig bad;
    st = Load(std::string("io_uring = ") + v + "\n" + map, &bad);
    ASSERT_FALSE(st.ok()) << v;
    EXPECT_NE(st.message().find("m.toml:1: io_uring must be true or false (expected io_uring = "
                                "true)"),
              std::string::npos)
        << st.message();
    EXPECT_FALSE(bad.io_uring);
  }
}

TEST_F(MountConfigTest, ReaderPollBudget) {
  const std::string map = "[[map]]\nat = \"/\"\nsource = \"/x\"\n";
  MountConfig cfg;
  EXPECT_EQ(cfg.poll_us, -1);  // not given: the daemon's default
  for (int v : {0, 50, 10000}) {
    Status st = Load("poll_us = " + std::to_string(v) + "\n" + map, &cfg);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(cfg.poll_us, v);
  }
  MountConfig bad;
  for (const char* v : {"-1", "10001", "\"50us\"", "0.5"}) {
    Status st = Load(std::string("poll_us = ") + v + "\n" + map, &bad);
    ASSERT_FALSE(st.ok()) << v;
    EXPECT_NE(st.message().find("m.toml:1: poll_us must be an integer in 0..10000 (expected "
                                "poll_us = 50)"),
              std::string::npos)
        << st.message();
  }
  EXPECT_EQ(bad.poll_us, -1);  // a bad file changes nothing
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

// Maps as TreeLinks sees them: (at, resolved source, source is a symlink).
struct LinkCase {
  std::vector<MapSpec> maps;
  std::vector<std::string> real;
  std::vector<bool> is_link;
  void Add(const std::string& at, const std::string& real_source, bool link) {
    maps.push_back(MapSpec{at, at, true, 0});
    real.push_back(real_source);
    is_link.push_back(link);
  }
  std::vector<std::string> Links() const { return TreeLinks(maps, real, is_link); }
};

TEST(TreeLinksTest, MergedUsrBinBecomesARelativeLinkIntoTheUsrMap) {
  LinkCase c;  // Debian: /bin -> usr/bin, /lib -> usr/lib; /usr mapped
  c.Add("/bin", "/usr/bin", true);
  c.Add("/lib", "/usr/lib", true);
  c.Add("/usr", "/usr", false);
  EXPECT_EQ(c.Links(), (std::vector<std::string>{"usr/bin", "usr/lib", ""}));
}

TEST(TreeLinksTest, LinkIntoASubdirectoryMapOrADeeperPlace) {
  LinkCase c;
  c.Add("/", "/srv/root", false);
  c.Add("/lib64", "/usr/lib64", true);
  c.Add("/opt/tools/bin", "/usr/bin", true);  // relative from /opt/tools
  c.Add("/usr/bin", "/usr/bin", false);
  c.Add("/usr/lib64", "/usr/lib64", false);
  EXPECT_EQ(c.Links(), (std::vector<std::string>{"", "usr/lib64", "../../usr/bin", "", ""}));
}

TEST(TreeLinksTest, NoMapShowsTheTargetSoTheDirectoryIsMapped) {
  LinkCase c;
  c.Add("/lib64", "/usr/lib64", true);  // /usr/lib64 is not mapped
  c.Add("/usr/lib", "/usr/lib", false);
  EXPECT_EQ(c.Links(), (std::vector<std::string>{"", ""}));
}

TEST(TreeLinksTest, AMapHidingTheTargetPlaceKeepsTheDirectory) {
  LinkCase c;
  c.Add("/bin", "/usr/bin", true);
  c.Add("/usr", "/usr", false);
  c.Add("/usr/bin", "/opt/otherbin", false);  // tree /usr/bin is not the host's
  EXPECT_EQ(c.Links()[0], "");
}

TEST(TreeLinksTest, TheRootAndOtherLinksNeverServeAsTargets) {
  LinkCase c;
  c.Add("/", "/usr", true);  // the root is always a directory
  c.Add("/a", "/usr/bin", true);
  c.Add("/b", "/usr", true);  // a link map shows no directory for /a to point into
  EXPECT_EQ(c.Links(), (std::vector<std::string>{"", "", ""}));
}

TEST(TreeLinksTest, RelativeTreePath) {
  EXPECT_EQ(RelativeTreePath("/", "/usr/bin"), "usr/bin");
  EXPECT_EQ(RelativeTreePath("/a/b", "/a/c"), "../c");
  EXPECT_EQ(RelativeTreePath("/a/b", "/"), "../..");
  EXPECT_EQ(RelativeTreePath("/a", "/a"), ".");
}

}  // namespace
}  // namespace sptfs
