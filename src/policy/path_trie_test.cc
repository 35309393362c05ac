#include "policy/path_trie.h"

#include <gtest/gtest.h>

#include <string>

namespace sptfs {
namespace {

TEST(PathTrie, EmptyHasNoRule) {
  PathTrie t;
  EXPECT_EQ(t.LongestPrefix("/a/b"), PathTrie::kNoRule);
  EXPECT_EQ(t.LongestPrefix("/"), PathTrie::kNoRule);
}

TEST(PathTrie, LongestWholeComponentPrefix) {
  PathTrie t;
  t.Insert("/var/run", 1);
  t.Insert("/var/run/inetd.conf", 2);
  t.Insert("/a-very-long-component-name/x", 3);  // longer than the inline name size
  EXPECT_EQ(t.LongestPrefix("/var/run"), 1u);
  EXPECT_EQ(t.LongestPrefix("/var/run/x/y"), 1u);
  EXPECT_EQ(t.LongestPrefix("/var/run/inetd.conf"), 2u);
  EXPECT_EQ(t.LongestPrefix("/var/run/inetd.conf/z"), 2u);
  EXPECT_EQ(t.LongestPrefix("/var/runner"), PathTrie::kNoRule);
  EXPECT_EQ(t.LongestPrefix("/var"), PathTrie::kNoRule);
  EXPECT_EQ(t.LongestPrefix("/a-very-long-component-name/x/y"), 3u);
  EXPECT_EQ(t.LongestPrefix("/a-very-long-component-name/y"), PathTrie::kNoRule);
  EXPECT_EQ(t.LongestPrefix("/a-very-long-component-nam/x"), PathTrie::kNoRule);
}

TEST(PathTrie, RootRuleAndReplacement) {
  PathTrie t;
  t.Insert("/", 7);
  t.Insert("/etc", 8);
  t.Insert("/etc", 9);  // later wins
  EXPECT_EQ(t.LongestPrefix("/home"), 7u);
  EXPECT_EQ(t.LongestPrefix("/etc/passwd"), 9u);
}

TEST(PathTrie, ManyPathsSurviveGrowth) {
  PathTrie t;
  for (size_t i = 0; i < 5000; ++i) {
    t.Insert("/d" + std::to_string(i % 50) + "/f" + std::to_string(i) + "/leaf", i);
  }
  for (size_t i = 0; i < 5000; ++i) {
    std::string p = "/d" + std::to_string(i % 50) + "/f" + std::to_string(i) + "/leaf/below";
    ASSERT_EQ(t.LongestPrefix(p), i) << p;
    ASSERT_EQ(t.LongestPrefix("/d" + std::to_string(i % 50) + "/f" + std::to_string(i)),
              PathTrie::kNoRule);
  }
}

}  // namespace
}  // namespace sptfs
