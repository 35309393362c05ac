#include "labels/label_resolver.h"

#include <gtest/gtest.h>

#include "policy/test_util.h"

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

// A policy whose default-labels give /etc/shadow keyObj and the rest of /etc appObj.
std::shared_ptr<const CompiledPolicy> EtcPolicy() {
  PolicySet set = testing::Set({});
  set.default_labels = {{"/etc", "appObj", {}}, {"/etc/shadow", "keyObj", {}}};
  return testing::CompileOrDie(set, LiteralTree());
}

TEST(LabelAtTest, AbsentOnAFixedObjectGetsTheDefaultLabelComputed) {
  auto p = EtcPolicy();
  ResolvedLabel r = ResolveLabelAt(*p, RawLabel{}, "/etc/shadow", true);
  EXPECT_EQ(r.name, "keyObj");
  EXPECT_EQ(r.id, 11u);
  EXPECT_TRUE(r.computed);
  EXPECT_EQ(ResolveLabelAt(*p, RawLabel{}, "/etc/passwd", true).name, "appObj");
}

TEST(LabelAtTest, AbsentOnAWritableObjectStaysUnlabeled) {
  auto p = EtcPolicy();  // there `spt-label --restore` can write the default label
  ResolvedLabel r = ResolveLabelAt(*p, RawLabel{}, "/etc/shadow", false);
  EXPECT_EQ(r.id, kUnlabeledId);
  EXPECT_FALSE(r.computed);
}

TEST(LabelAtTest, StoredLabelWinsOverTheDefault) {
  auto p = EtcPolicy();
  ResolvedLabel r = ResolveLabelAt(*p, RawLabel{true, "appObj"}, "/etc/shadow", true);
  EXPECT_EQ(r.name, "appObj");
  EXPECT_FALSE(r.computed);
}

TEST(LabelAtTest, GarbageStaysInvalidNeverTheDefault) {
  auto p = EtcPolicy();
  ResolvedLabel r = ResolveLabelAt(*p, RawLabel{true, "ghostObj"}, "/etc/shadow", true);
  EXPECT_EQ(r.id, kInvalidLabelId);
  EXPECT_FALSE(r.computed);
}

TEST(LabelAtTest, NoDefaultIsUnlabeledNotComputed) {
  auto p = EtcPolicy();
  ResolvedLabel r = ResolveLabelAt(*p, RawLabel{}, "/etcetera/x", true);  // whole components
  EXPECT_EQ(r.id, kUnlabeledId);
  EXPECT_EQ(r.name, kUnlabeledName);
  EXPECT_FALSE(r.computed);
}

}  // namespace
}  // namespace sptfs
