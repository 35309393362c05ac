#include "policy/perms.h"

#include <gtest/gtest.h>

#include "policy/model.h"

namespace sptfs {
namespace {

TEST(Perms, ParsesSubsetsInAnyOrder) {
  Perms p = kPermAll;
  ASSERT_TRUE(ParsePerms("", &p));
  EXPECT_EQ(p, kPermNone);
  ASSERT_TRUE(ParsePerms("r", &p));
  EXPECT_EQ(p, kPermRead);
  ASSERT_TRUE(ParsePerms("xr", &p));
  EXPECT_EQ(p, kPermRead | kPermExec);
  ASSERT_TRUE(ParsePerms("wxr", &p));
  EXPECT_EQ(p, kPermAll);
}

TEST(Perms, RejectsOtherLettersAndRepeats) {
  Perms p = kPermRead;
  EXPECT_FALSE(ParsePerms("rr", &p));
  EXPECT_FALSE(ParsePerms("rwa", &p));
  EXPECT_FALSE(ParsePerms("R", &p));
  EXPECT_FALSE(ParsePerms(" ", &p));
  EXPECT_EQ(p, kPermRead);  // untouched on failure
}

TEST(Perms, FormatsInCanonicalOrder) {
  EXPECT_EQ(FormatPerms(kPermNone), "");
  EXPECT_EQ(FormatPerms(kPermExec | kPermRead), "rx");
  EXPECT_EQ(FormatPerms(kPermAll), "rwx");
  EXPECT_EQ(FormatPerms(kPermWrite), "w");
}

TEST(Levels, NamesRoundTrip) {
  for (Level l : {Level::kEnforcing, Level::kWarning, Level::kDisabled}) {
    Level back = Level::kEnforcing;
    ASSERT_TRUE(ParseLevel(LevelName(l), &back));
    EXPECT_EQ(back, l);
  }
  Level l = Level::kWarning;
  EXPECT_FALSE(ParseLevel("permissive", &l));
  EXPECT_FALSE(ParseLevel("Enforcing", &l));
  EXPECT_EQ(l, Level::kWarning);
  EXPECT_EQ(LevelName(Level::kDisabled), "disabled");
}

TEST(SourceLocation, FileColonLine) {
  EXPECT_EQ((SourceLocation{"domains/a.toml", 12}).ToString(), "domains/a.toml:12");
}

}  // namespace
}  // namespace sptfs
