#include "labels/label_resolver.h"

#include <gtest/gtest.h>

namespace sptfs {
namespace {

TEST(LabelTextTest, AcceptsNamesRejectsGarbage) {
  EXPECT_TRUE(IsLabelText("appObj"));
  EXPECT_TRUE(IsLabelText("a_b-c.1"));
  EXPECT_FALSE(IsLabelText(""));
  EXPECT_FALSE(IsLabelText("app Obj"));
  EXPECT_FALSE(IsLabelText(std::string("app\0Obj", 7)));
  EXPECT_FALSE(IsLabelText("\xff\xfe"));
  EXPECT_FALSE(IsLabelText(std::string(kMaxLabelBytes + 1, 'a')));
}

TEST(LabelResolverTest, AbsentIsUnlabeledWithoutAPolicyLookup) {
  CompiledPolicy empty;  // defines nothing
  ResolvedLabel r = ResolveLabel(empty, RawLabel{});
  EXPECT_EQ(r.id, kUnlabeledId);
  EXPECT_EQ(r.name, kUnlabeledName);
}

TEST(LabelResolverTest, GarbageIsInvalidNeverUnlabeled) {
  CompiledPolicy empty;
  ResolvedLabel r = ResolveLabel(empty, RawLabel{true, "\x01\x02"});
  EXPECT_EQ(r.id, kInvalidLabelId);
  EXPECT_EQ(r.name, kInvalidLabelName);
  r = ResolveLabel(empty, RawLabel{true, ""});
  EXPECT_EQ(r.id, kInvalidLabelId);
}

}  // namespace
}  // namespace sptfs
