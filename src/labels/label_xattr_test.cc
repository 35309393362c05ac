#include "labels/label_xattr.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "labels/label_cache.h"

namespace sptfs {
namespace {

class LabelXattrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/labelsXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    file_ = dir_ + "/f";
    std::ofstream(file_) << "x";
  }
  void TearDown() override {
    unlink(file_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, file_;
  std::string attr_ = DefaultLabelXattr();
};

TEST_F(LabelXattrTest, AbsentIsNotPresent) {
  RawLabel raw{true, "junk"};
  ASSERT_TRUE(ReadLabel(file_, attr_, true, &raw).ok());
  EXPECT_FALSE(raw.present);
  EXPECT_EQ(raw.value, "");
}

TEST_F(LabelXattrTest, WriteThenReadRoundTrips) {
  ASSERT_TRUE(WriteLabel(file_, attr_, true, "appObj").ok());
  RawLabel raw;
  ASSERT_TRUE(ReadLabel(file_, attr_, false, &raw).ok());
  EXPECT_TRUE(raw.present);
  EXPECT_EQ(raw.value, "appObj");
  ASSERT_TRUE(RemoveLabel(file_, attr_, true).ok());
  ASSERT_TRUE(ReadLabel(file_, attr_, true, &raw).ok());
  EXPECT_FALSE(raw.present);
  EXPECT_TRUE(RemoveLabel(file_, attr_, true).ok());  // absent: not an error
}

TEST_F(LabelXattrTest, OversizedValueIsGarbageNotUnlabeled) {
  std::string big(1000, 'a');
  ASSERT_EQ(setxattr(file_.c_str(), attr_.c_str(), big.data(), big.size(), 0), 0);
  RawLabel raw;
  ASSERT_TRUE(ReadLabel(file_, attr_, true, &raw).ok());
  EXPECT_TRUE(raw.present);
  EXPECT_GT(raw.value.size(), kMaxLabelBytes);
}

TEST_F(LabelXattrTest, MissingFileIsAnError) {
  RawLabel raw;
  Status st = ReadLabel(dir_ + "/nope", attr_, true, &raw);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nope"), std::string::npos);
}

TEST(LabelCacheTest, HitMissInvalidateExpire) {
  LabelCache cache(std::chrono::milliseconds(50), 64);
  RawLabel out;
  EXPECT_FALSE(cache.Lookup(1, 2, &out));
  cache.Insert(1, 2, RawLabel{true, "appObj"});
  ASSERT_TRUE(cache.Lookup(1, 2, &out));
  EXPECT_EQ(out.value, "appObj");
  EXPECT_FALSE(cache.Lookup(2, 2, &out));  // other device
  cache.Invalidate(1, 2);
  EXPECT_FALSE(cache.Lookup(1, 2, &out));
  cache.Insert(1, 2, RawLabel{true, "x"});
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  EXPECT_FALSE(cache.Lookup(1, 2, &out));
}

TEST(LabelCacheTest, StaysBounded) {
  LabelCache cache(std::chrono::seconds(10), 32);
  for (ino_t i = 0; i < 10000; ++i) cache.Insert(1, i, RawLabel{true, "a"});
  int hits = 0;
  RawLabel out;
  for (ino_t i = 0; i < 10000; ++i) hits += cache.Lookup(1, i, &out);
  EXPECT_LE(hits, 32 + 16);
}

}  // namespace
}  // namespace sptfs
