// The admission rules of admission.h, one behaviour per test.
#include "control/admission.h"

#include <gtest/gtest.h>

namespace sptfs {
namespace {

constexpr uint64_t kHost = 4026531836;

AdmissionKey Admin() { return AdmissionKey{true, 0, kHost, true}; }
AdmissionKey User(uid_t uid) { return AdmissionKey{false, uid, kHost, true}; }
AdmissionKey InWorld(uint64_t world, uid_t uid = 0) {
  return AdmissionKey{false, uid, world, false};
}

AdmissionLimits Small() { return AdmissionLimits{6, 2, 2, 3, 2}; }

TEST(Admission, OrdinaryCallersNeverTakeTheReservedSlots) {
  ConnectionAdmission a(Small());
  std::string why;
  for (uint64_t w = 1; w <= 4; ++w) EXPECT_EQ(a.Arrive(InWorld(w), &why), Admit::kServe) << w;
  EXPECT_EQ(a.Arrive(InWorld(5), &why), Admit::kWait);  // 4 of 6 used: the rest is reserved
  EXPECT_EQ(a.Arrive(Admin(), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(Admin(), &why), Admit::kServe);
  EXPECT_EQ(a.serving(), 6);
  EXPECT_EQ(a.Arrive(Admin(), &why), Admit::kWait);  // everything in use: an admin waits too
  EXPECT_FALSE(a.TryStart(InWorld(5)));
}

TEST(Admission, PerUidLimitCountsServingAndWaiting) {
  ConnectionAdmission a(Small());
  std::string why;
  EXPECT_EQ(a.Arrive(User(1000), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(User(1000), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(User(1000), &why), Admit::kRefuse);
  EXPECT_NE(why.find("uid 1000 already has 2 connections (expected at most 2"), std::string::npos)
      << why;
  EXPECT_EQ(a.Arrive(User(1001), &why), Admit::kServe);  // another user is not affected
  a.Leave(User(1000), true);
  EXPECT_EQ(a.Arrive(User(1000), &why), Admit::kServe);
}

TEST(Admission, PerWorldLimitWhateverTheUid) {
  ConnectionAdmission a(AdmissionLimits{32, 8, 4, 3, 8});
  std::string why;
  EXPECT_EQ(a.Arrive(InWorld(7, 0), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(InWorld(7, 5), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(InWorld(7, 6), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(InWorld(7, 7), &why), Admit::kRefuse);
  EXPECT_NE(why.find("PID namespace 7 already has 3"), std::string::npos) << why;
  EXPECT_EQ(a.Arrive(InWorld(8, 0), &why), Admit::kServe);
}

TEST(Admission, RootInsideWorldsIsChargedPerWorldNotPerUid) {
  ConnectionAdmission a(AdmissionLimits{32, 8, 2, 2, 8});
  std::string why;
  for (uint64_t w = 1; w <= 5; ++w) {
    EXPECT_EQ(a.Arrive(InWorld(w, 0), &why), Admit::kServe) << w;
    EXPECT_EQ(a.Arrive(InWorld(w, 0), &why), Admit::kServe) << w;
  }
  // A non-root uid is charged across worlds: new namespaces do not give it more.
  EXPECT_EQ(a.Arrive(InWorld(11, 1000), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(InWorld(12, 1000), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(InWorld(13, 1000), &why), Admit::kRefuse);
  // Root in the daemon's own namespace, unprivileged (a confined root): per uid.
  EXPECT_EQ(a.Arrive(User(0), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(User(0), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(User(0), &why), Admit::kRefuse);
}

TEST(Admission, PrivilegedCallersHaveNoBuckets) {
  ConnectionAdmission a(AdmissionLimits{32, 8, 1, 1, 8});
  std::string why;
  for (int i = 0; i < 32; ++i) EXPECT_EQ(a.Arrive(Admin(), &why), Admit::kServe) << i;
}

TEST(Admission, QueueIsBoundedAndWaitersStartWhenSlotsFree) {
  ConnectionAdmission a(Small());
  std::string why;
  for (uint64_t w = 1; w <= 4; ++w) ASSERT_EQ(a.Arrive(InWorld(w), &why), Admit::kServe);
  EXPECT_EQ(a.Arrive(InWorld(5), &why), Admit::kWait);
  EXPECT_EQ(a.Arrive(InWorld(6), &why), Admit::kWait);
  EXPECT_EQ(a.Arrive(InWorld(9), &why), Admit::kRefuse);
  EXPECT_NE(why.find("2 connections wait"), std::string::npos) << why;
  EXPECT_EQ(a.waiting(), 2);
  a.Leave(InWorld(1), true);
  EXPECT_TRUE(a.TryStart(InWorld(5)));
  EXPECT_FALSE(a.TryStart(InWorld(6)));
  a.Leave(InWorld(6), false);  // gave up waiting
  EXPECT_EQ(a.waiting(), 0);
  EXPECT_EQ(a.serving(), 4);
  // Everything left: the counters are back to empty, every bucket too.
  for (uint64_t w : {2, 3, 4, 5}) a.Leave(InWorld(w), true);
  EXPECT_EQ(a.serving(), 0);
  for (uint64_t w = 1; w <= 3; ++w) EXPECT_EQ(a.Arrive(InWorld(42), &why), Admit::kServe);
}

}  // namespace
}  // namespace sptfs
