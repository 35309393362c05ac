#include "control/why_daemon.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sptfs {
namespace {

namespace stdfs = std::filesystem;

void Write(const stdfs::path& p, const std::string& text) {
  stdfs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Answers Identify from a fixed table: pid 77 is in globalVMDom, others unknown.
class FakeTracker : public DomainTracker {
 public:
  CallerInfo Identify(pid_t tid, DomainId) override {
    CallerInfo c;
    c.identified = tid == 77;
    c.pid = c.tid = tid;
    c.placed = true;
    c.domain = 4;
    return c;
  }
  Status Place(pid_t, DomainId) override { return Status::Ok(); }
  Status Transition(pid_t, DomainId) override { return Status::Ok(); }
  std::map<DomainId, int> WorldCounts() override { return {}; }
  std::vector<ConfinedProcess> List() override { return {}; }
};

// A daemon's state over a real directory: the tree is read with DiskTree and labels
// with lgetxattr under `mountpoint` (here the same directory, no FUSE needed).
class WhyDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sptfs-whyd-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Write(dir_ / "policy/policy.toml",
          "default_domain = \"superDom\"\n[[label]]\nname = \"appObj\"\nid = 3117\n");
    Write(dir_ / "policy/domains/superDom.toml",
          "name = \"superDom\"\nid = 0\nlevel = \"enforcing\"\nunconfined = true\nrules = []\n");
    Write(dir_ / "policy/domains/globalVMDom.toml",
          "name = \"globalVMDom\"\nid = 4\nlevel = \"enforcing\"\n"
          "rules = [\"-r /productLocker r\", \"-r /etc r\"]\n");
    Write(dir_ / "tree/locker/vmtools/windows.iso", "iso\n");
    Write(dir_ / "tree/ds/vmtools/windows.iso", "iso\n");
    Write(dir_ / "tree/etc/app.conf", "x\n");
    stdfs::create_directory_symlink("/locker", dir_ / "tree/productLocker");
    std::string conf = (dir_ / "tree/etc/app.conf").string();
    ASSERT_EQ(lsetxattr(conf.c_str(), "user.spt.label", "appObj", 6, 0), 0);
    tree_ = std::make_unique<DiskTree>((dir_ / "tree").string());
    std::vector<std::string> warnings;
    Status s = holder_.Reload((dir_ / "policy").string(), *tree_, &warnings);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ctx_.policy = &holder_;
    ctx_.tracker = &tracker_;
    ctx_.tree = tree_.get();
    ctx_.mountpoint = (dir_ / "tree").string();
    ctx_.label_xattr = "user.spt.label";
  }
  void TearDown() override { stdfs::remove_all(dir_); }
  int Why(const std::vector<std::string>& args) {
    out_.clear();
    err_.clear();
    return RunWhyInDaemon(ctx_, args, &out_, &err_);
  }

  stdfs::path dir_;
  std::unique_ptr<DiskTree> tree_;
  PolicyHolder holder_;
  FakeTracker tracker_;
  DaemonContext ctx_;
  std::string out_, err_;
};

TEST_F(WhyDaemonTest, LivePolicyGoesStaleWhenTheLinkMoves) {
  EXPECT_EQ(Why({"globalVMDom", "/productLocker/vmtools/windows.iso"}), 0) << err_;
  EXPECT_EQ(out_.rfind("allow: ", 0), 0u) << out_;
  stdfs::remove(dir_ / "tree/productLocker");
  stdfs::create_directory_symlink("/ds", dir_ / "tree/productLocker");
  EXPECT_EQ(Why({"--domain", "globalVMDom", "/productLocker/vmtools/windows.iso", "r"}), 0);
  EXPECT_EQ(out_.rfind("deny: ", 0), 0u) << out_;
  EXPECT_NE(out_.find("/productLocker now resolves to /ds"), std::string::npos) << out_;
  EXPECT_NE(out_.find("`spt -p` would change the answer"), std::string::npos) << out_;
  std::vector<std::string> warnings;
  ASSERT_TRUE(holder_.Reload("", *tree_, &warnings).ok());
  EXPECT_EQ(Why({"globalVMDom", "/productLocker/vmtools/windows.iso"}), 0);
  EXPECT_EQ(out_.rfind("allow: ", 0), 0u) << out_;
}

TEST_F(WhyDaemonTest, PidAndLabelFromTheDaemon) {
  EXPECT_EQ(Why({"--pid", "77", "/etc/app.conf"}), 0) << err_;
  EXPECT_EQ(out_.rfind("deny: globalVMDom (4, enforcing) r /etc/app.conf", 0), 0u) << out_;
  EXPECT_NE(out_.find("object label:   appObj (3117)"), std::string::npos) << out_;
  EXPECT_NE(out_.find("process:        77"), std::string::npos) << out_;
  EXPECT_EQ(Why({"--pid", "78", "/etc/app.conf"}), 1);
  EXPECT_NE(err_.find("--pid 78: no such process visible to sptfs"), std::string::npos) << err_;
}

TEST_F(WhyDaemonTest, NoPolicyIsAnError) {
  DaemonContext empty;
  std::string out, err;
  EXPECT_EQ(RunWhyInDaemon(empty, {"globalVMDom", "/x"}, &out, &err), 1);
  EXPECT_NE(err.find("no policy or tree"), std::string::npos);
}

}  // namespace
}  // namespace sptfs
