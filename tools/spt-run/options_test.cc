#include "options.h"

#include <gtest/gtest.h>

namespace sptfs {
namespace {

Status Parse(std::vector<std::string> args, RunOptions* out) { return ParseRunOptions(args, out); }

TEST(RunOptions, Full) {
  RunOptions o;
  ASSERT_TRUE(Parse({"-D", "appDom", "--mount", "/mnt/t", "--root", "--user", "nobody", "--cwd",
                     "/tmp", "--", "sh", "-c", "id"},
                    &o)
                  .ok());
  EXPECT_EQ(o.domain, "appDom");
  EXPECT_EQ(o.mount, "/mnt/t");
  EXPECT_TRUE(o.root);
  EXPECT_EQ(o.user, "nobody");
  EXPECT_EQ(o.cwd, "/tmp");
  EXPECT_EQ(o.command, (std::vector<std::string>{"sh", "-c", "id"}));
}

TEST(RunOptions, CommandWithoutDoubleDashKeepsItsOptions) {
  RunOptions o;
  ASSERT_TRUE(Parse({"-D", "3", "--socket", "/s", "ls", "-l", "--root"}, &o).ok());
  EXPECT_FALSE(o.root);  // "--root" belongs to ls
  EXPECT_EQ(o.command, (std::vector<std::string>{"ls", "-l", "--root"}));
}

TEST(RunOptions, Errors) {
  RunOptions o;
  auto message = [&](std::vector<std::string> args) {
    Status s = Parse(args, &o);
    EXPECT_FALSE(s.ok());
    return s.message();
  };
  EXPECT_NE(message({"--mount", "/m", "--", "sh"}).find("expected -D DOMAIN"), std::string::npos);
  EXPECT_NE(message({"-D", "d", "--mount", "/m"}).find("no command"), std::string::npos);
  EXPECT_NE(message({"-D", "d", "--", "sh"}).find("expected --mount DIR or --socket PATH"),
            std::string::npos);
  EXPECT_NE(message({"-D", "d", "--socket", "/s", "--root", "--", "sh"}).find("--root needs"),
            std::string::npos);
  EXPECT_NE(message({"-D", "d", "--bogus", "--", "sh"}).find("unknown option \"--bogus\""),
            std::string::npos);
  EXPECT_NE(message({"-D"}).find("needs a value"), std::string::npos);
  EXPECT_NE(message({"-D", "d", "--socket", "/s", "--no-proc", "--", "sh"}).find("needs --root"),
            std::string::npos);
}

TEST(RunOptions, KillAfter) {
  RunOptions o;
  ASSERT_TRUE(Parse({"-D", "d", "-S", "/s", "--", "sh"}, &o).ok());
  EXPECT_EQ(o.kill_after, 10);  // the documented default
  ASSERT_TRUE(Parse({"-D", "d", "-S", "/s", "--kill-after", "0", "--", "sh"}, &o).ok());
  EXPECT_EQ(o.kill_after, 0);
  ASSERT_TRUE(Parse({"-D", "d", "-S", "/s", "-k", "86400", "--", "sh"}, &o).ok());
  EXPECT_EQ(o.kill_after, 86400);
  for (const char* bad : {"-1", "1.5", "x", "86401", "99999999999"}) {
    Status s = Parse({"-D", "d", "-S", "/s", "-k", bad, "--", "sh"}, &o);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("expected whole seconds, 0 to 86400"), std::string::npos)
        << s.message();
  }
  EXPECT_FALSE(Parse({"-D", "d", "-S", "/s", "-k"}, &o).ok());
}

TEST(RunOptions, Help) {
  RunOptions o;
  ASSERT_TRUE(Parse({"--help"}, &o).ok());
  EXPECT_TRUE(o.help);
}

TEST(RunOptions, Version) {
  RunOptions o;
  ASSERT_TRUE(Parse({"--version"}, &o).ok());
  EXPECT_TRUE(o.version);
  EXPECT_FALSE(o.help);
}

TEST(ResolveUser, NamesAndNumbers) {
  RunIdentity id;
  ASSERT_TRUE(ResolveUser("root", &id).ok());
  EXPECT_EQ(id.uid, 0u);
  EXPECT_EQ(id.gid, 0u);
  ASSERT_TRUE(ResolveUser("54321", &id).ok());  // no such user: numeric ids as given
  EXPECT_EQ(id.uid, 54321u);
  EXPECT_EQ(id.gid, 54321u);
  EXPECT_TRUE(id.groups.empty());
  EXPECT_FALSE(ResolveUser("no-such-user-xyz", &id).ok());
}

}  // namespace
}  // namespace sptfs
