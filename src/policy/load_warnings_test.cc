#include "policy/load_warnings.h"

#include <gtest/gtest.h>

namespace sptfs {
namespace {

std::vector<std::string> Warnings(size_t n) {
  std::vector<std::string> w;
  for (size_t i = 0; i < n; ++i) w.push_back("Partially resolved path: /p" + std::to_string(i));
  return w;
}

TEST(LoadWarnings, NoneIsEmpty) { EXPECT_EQ(FormatLoadWarnings({}, "spt"), ""); }

TEST(LoadWarnings, UpToTheLimitAllShown) {
  std::string out = FormatLoadWarnings(Warnings(kShownLoadWarnings), "sptfs");
  EXPECT_EQ(out.find("more"), std::string::npos);
  const std::string last = "sptfs: Partially resolved path: /p9\n";
  ASSERT_GE(out.size(), last.size());
  EXPECT_EQ(out.substr(out.size() - last.size()), last);
}

TEST(LoadWarnings, AboveTheLimitCutWithACount) {
  std::string out = FormatLoadWarnings(Warnings(47), "spt");
  EXPECT_NE(out.find("spt: Partially resolved path: /p0\n"), std::string::npos);
  EXPECT_EQ(out.find("/p10\n"), std::string::npos);
  EXPECT_NE(out.find("spt: ... and 37 more partially resolved paths\n"), std::string::npos);
}

}  // namespace
}  // namespace sptfs
