#include "fs/fd_budget.h"

#include <errno.h>
#include <gtest/gtest.h>

namespace sptfs {
namespace {

constexpr size_t kLimit = 1024;  // reserve 128, pool 896: a world 224, worlds 672

TEST(FdBudget, LimitsOfTheDefault) {
  FdBudget::Limits l = FdBudget::LimitsFor(kLimit, 0);
  EXPECT_EQ(l.reserve, 128u);
  EXPECT_EQ(l.per_world, 224u);
  EXPECT_EQ(l.worlds, 672u);
  l = FdBudget::LimitsFor(20000, 0);
  EXPECT_EQ(l.reserve, 1250u);
  EXPECT_EQ(l.per_world, 4687u);
  EXPECT_EQ(FdBudget::LimitsFor(20000, 100).per_world, 100u);
  EXPECT_EQ(FdBudget::LimitsFor(kLimit, 5000).per_world, 672u);  // never more than all worlds
}

TEST(FdBudget, WorldOverItsBudgetGetsEmfileOthersGoOn) {
  FdBudget b;
  for (int i = 0; i < 224; ++i) ASSERT_EQ(b.Admit(7, kLimit, 0), 0) << i;
  bool first = false;
  EXPECT_EQ(b.Admit(7, kLimit, 0, &first), EMFILE);
  EXPECT_TRUE(first);
  EXPECT_EQ(b.Admit(7, kLimit, 0, &first), EMFILE);
  EXPECT_FALSE(first);                  // said once
  EXPECT_EQ(b.Admit(8, kLimit, 0), 0);  // another world
  EXPECT_EQ(b.Admit(0, kLimit, 0), 0);  // the host
  b.Release(7);
  EXPECT_EQ(b.Admit(7, kLimit, 0), 0);  // a slot given back is usable again
  EXPECT_EQ(b.held_by(7), 224u);
  EXPECT_EQ(b.held(), 226u);
}

TEST(FdBudget, WorldsTogetherLeaveTheHostAQuarter) {
  FdBudget b;
  for (uint64_t w = 1; w <= 3; ++w) {
    for (int i = 0; i < 224; ++i) ASSERT_EQ(b.Admit(w, kLimit, 0), 0);
  }
  EXPECT_EQ(b.Admit(4, kLimit, 0), ENFILE);  // 672 held by worlds
  for (int i = 0; i < 224; ++i) ASSERT_EQ(b.Admit(0, kLimit, 0), 0) << i;
  EXPECT_EQ(b.Admit(0, kLimit, 0), ENFILE);  // only the reserve is left
}

TEST(FdBudget, ReserveAndOtherDescriptorsAreNeverGivenToHandles) {
  FdBudget b;
  // The inode table holds 800: 1024 - 128 - 800 = 96 left for handles, 72 for worlds.
  for (int i = 0; i < 72; ++i) ASSERT_EQ(b.Admit(5, kLimit, 800), 0) << i;
  EXPECT_EQ(b.Admit(5, kLimit, 800), ENFILE);
  for (int i = 0; i < 24; ++i) ASSERT_EQ(b.Admit(0, kLimit, 800), 0) << i;
  EXPECT_EQ(b.Admit(0, kLimit, 800), ENFILE);
  EXPECT_EQ(b.Admit(0, kLimit, 2000), ENFILE);  // more held than the limit: no underflow
}

TEST(FdBudget, FileHandlesGiveTheirSlotBackByFd) {
  FdBudget b(2);
  ASSERT_EQ(b.Admit(9, kLimit, 0), 0);
  b.Bind(40, 9);
  ASSERT_EQ(b.Admit(9, kLimit, 0), 0);
  b.Bind(41, 9);
  EXPECT_EQ(b.Admit(9, kLimit, 0), EMFILE);
  b.ReleaseFd(40);
  b.ReleaseFd(40);  // a second release of the same fd gives nothing back twice
  EXPECT_EQ(b.held_by(9), 1u);
  EXPECT_EQ(b.Admit(9, kLimit, 0), 0);
}

}  // namespace
}  // namespace sptfs
