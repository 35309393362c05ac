#include "policy/policy_holder.h"

#include <gtest/gtest.h>

#include <thread>

#include "policy/decision.h"
#include "policy/test_util.h"

namespace sptfs {
namespace {

const char kPolicy[] = "default_domain = \"superDom\"\n[[label]]\nname = \"appObj\"\nid = 5\n";
const char kSuper[] = "name = \"superDom\"\nid = 0\nunconfined = true\n";
const char kVm[] = "name = \"vm\"\nid = 4\nrules = [\"-r /productLocker r\"]\n";

class HolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("policy.toml", kPolicy);
    dir_.Write("domains/superDom.toml", kSuper);
    dir_.Write("domains/vm.toml", kVm);
    tree_.AddDirectory("/ds1/locker");
    tree_.AddDirectory("/ds2/locker");
    tree_.AddSymlink("/productLocker", "/ds1/locker");
  }
  testing::TempDir dir_;
  MemoryTree tree_;
  PolicyHolder holder_;
};

TEST_F(HolderTest, PublishHookRunsForEveryPublishedSnapshotOnly) {
  int published = 0, other = 0;
  holder_.AddPublishHook([&] { ++published; });
  int second = holder_.AddPublishHook([&] { ++other; });
  ASSERT_TRUE(holder_.Reload(dir_.path(), tree_, nullptr).ok());
  EXPECT_EQ(published, 1);
  ASSERT_TRUE(
      holder_.Update([](const CompiledPolicy& p) { return p.WithLevel(4, Level::kWarning); }).ok());
  EXPECT_EQ(published, 2);
  EXPECT_FALSE(holder_.Update([](const CompiledPolicy&) { return nullptr; }).ok());
  EXPECT_FALSE(holder_.Reload(dir_.path() + "/missing", tree_, nullptr).ok());
  EXPECT_EQ(published, 2);  // refused changes publish nothing
  EXPECT_EQ(other, 2);
  holder_.RemovePublishHook(second);
  ASSERT_TRUE(holder_.Reload(dir_.path(), tree_, nullptr).ok());
  EXPECT_EQ(published, 3);
  EXPECT_EQ(other, 2);
}

TEST_F(HolderTest, ReloadPublishesAndCountsGenerations) {
  EXPECT_EQ(holder_.Current(), nullptr);
  ASSERT_TRUE(holder_.Reload(dir_.path(), tree_, nullptr).ok());
  auto first = holder_.Current();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->generation(), 1u);
  EXPECT_EQ(first->source_dir(), dir_.path());
  tree_.AddSymlink("/productLocker", "/ds2/locker");
  EXPECT_FALSE(Decide(*first, 4, "/ds2/locker/x.iso", kUnlabeledId, kPermRead).allowed());
  ASSERT_TRUE(holder_.Reload("", tree_, nullptr).ok());  // "" = the same directory again
  EXPECT_EQ(holder_.Current()->generation(), 2u);
  EXPECT_TRUE(
      Decide(*holder_.Current(), 4, "/ds2/locker/x.iso", kUnlabeledId, kPermRead).allowed());
  EXPECT_FALSE(Decide(*first, 4, "/ds2/locker/x.iso", kUnlabeledId, kPermRead).allowed());
}

TEST_F(HolderTest, FailedReloadKeepsThePolicy) {
  ASSERT_TRUE(holder_.Reload(dir_.path(), tree_, nullptr).ok());
  auto before = holder_.Current();
  dir_.Write("domains/vm.toml", "name = \"vm\"\nid = 4\nrules = [\"-r /x rq\"]\n");
  Status s = holder_.Reload("", tree_, nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("vm.toml:3: bad permissions"), std::string::npos) << s.message();
  EXPECT_EQ(holder_.Current(), before);
  EXPECT_FALSE(holder_.Reload(dir_.path() + "/nope", tree_, nullptr).ok());
  EXPECT_EQ(holder_.Current(), before);
}

TEST_F(HolderTest, UpdateAppliesOrRefuses) {
  EXPECT_EQ(holder_.Update([](const CompiledPolicy& p) { return p.WithAllLevels(Level::kWarning); })
                .code(),
            Status::Code::kNotFound);  // nothing loaded yet
  ASSERT_TRUE(holder_.Reload(dir_.path(), tree_, nullptr).ok());
  ASSERT_TRUE(
      holder_.Update([](const CompiledPolicy& p) { return p.WithLevel(4, Level::kWarning); }).ok());
  EXPECT_EQ(holder_.Current()->FindDomain(4)->level, Level::kWarning);
  EXPECT_EQ(holder_.Current()->generation(), 2u);
  auto before = holder_.Current();
  EXPECT_EQ(holder_.Update([](const CompiledPolicy& p) { return p.WithLevel(42, Level::kWarning); })
                .code(),
            Status::Code::kNotFound);
  EXPECT_EQ(holder_.Current(), before);
}

TEST_F(HolderTest, ReadersSeeWholeSnapshotsWhileWritersSwap) {
  ASSERT_TRUE(holder_.Reload(dir_.path(), tree_, nullptr).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      Level l = i % 2 ? Level::kWarning : Level::kEnforcing;
      holder_.Update([l](const CompiledPolicy& p) { return p.WithAllLevels(l); });
    }
    stop = true;
  });
  uint64_t last = 0;
  while (!stop) {
    auto p = holder_.Current();
    EXPECT_GE(p->generation(), last);
    last = p->generation();
    Level first = p->domains()[0].level;
    for (const CompiledDomain& d : p->domains()) EXPECT_EQ(d.level, first);  // never a mix
  }
  writer.join();
  EXPECT_EQ(holder_.Current()->generation(), 201u);
}

}  // namespace
}  // namespace sptfs
