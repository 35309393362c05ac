#include "audit/last_denial.h"

#include <gtest/gtest.h>

#include <string>

namespace sptfs {
namespace {

struct Fixture {
  CompiledDomain domain;
  Decision denied;
  CallerInfo caller;

  Fixture() {
    domain.name = "fooDom";
    domain.id = 7;
    denied.verdict = Verdict::kDeny;
    denied.domain = &domain;
    caller.identified = true;
    caller.pid = 42;
    caller.tid = 43;
    caller.domain = 7;
    caller.world = 5;
  }
  void Deny(LastDenials* t, std::string_view path, uint64_t world = 5) {
    caller.world = world;
    t->Record(denied, kPermExec, "open", caller, path, "libObj", nullptr);
  }
};

TEST(LastDenials, KeepsTheLastDenialOfEachWorld) {
  Fixture f;
  LastDenials t;
  f.Deny(&t, "/usr/bin/nginx");
  f.Deny(&t, "/usr/lib64/ld-linux-x86-64.so.2");
  f.Deny(&t, "/secret", 6);
  DenialRecord r;
  ASSERT_TRUE(t.Find(5, &r));
  EXPECT_EQ(std::string(r.path), "/usr/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(r.count, 2u);
  std::string text = FormatDenial(r);
  EXPECT_NE(text.find("path=/usr/lib64/ld-linux-x86-64.so.2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("requested=x\nop=open\nlabel=libObj\ndomain=fooDom(7)\nrule=no rule\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("count=2\n"), std::string::npos) << text;
  ASSERT_TRUE(t.Find(6, &r));
  EXPECT_EQ(std::string(r.path), "/secret");
  EXPECT_FALSE(t.Find(7, &r));
  EXPECT_FALSE(t.Find(0, &r));
}

TEST(LastDenials, IgnoresAllowedAndCallersOutsideWorlds) {
  Fixture f;
  LastDenials t;
  Decision allowed = f.denied;
  allowed.verdict = Verdict::kAllow;
  t.Record(allowed, kPermRead, "open", f.caller, "/ok", "x", nullptr);
  f.Deny(&t, "/outside", 0);
  DenialRecord r;
  EXPECT_FALSE(t.Find(5, &r));
  EXPECT_FALSE(t.Find(0, &r));
}

TEST(LastDenials, ANewWorldTakesTheOldestSlot) {
  Fixture f;
  LastDenials t;
  for (uint64_t w = 1; w <= LastDenials::kWorlds; ++w) f.Deny(&t, "/p" + std::to_string(w), w);
  f.Deny(&t, "/again", 1);  // world 1 written last: world 2 is now the oldest
  f.Deny(&t, "/new", 1000);
  DenialRecord r;
  EXPECT_FALSE(t.Find(2, &r));
  ASSERT_TRUE(t.Find(1, &r));
  EXPECT_EQ(std::string(r.path), "/again");
  ASSERT_TRUE(t.Find(1000, &r));
  EXPECT_EQ(r.count, 1u);
}

TEST(LastDenials, LongPathsAreCutAndControlBytesKeptOffTheLine) {
  Fixture f;
  LastDenials t;
  f.Deny(&t, "/" + std::string(2000, 'a'));
  DenialRecord r;
  ASSERT_TRUE(t.Find(5, &r));
  EXPECT_TRUE(r.path_cut);
  EXPECT_NE(FormatDenial(r).find("a...\n"), std::string::npos);
  f.Deny(&t, "/x\nrule=forged");
  ASSERT_TRUE(t.Find(5, &r));
  std::string text = FormatDenial(r);
  EXPECT_NE(text.find("path=/x?rule=forged\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("\nrule=forged"), std::string::npos) << text;
}

}  // namespace
}  // namespace sptfs
