#include "exec_report.h"

#include <gtest/gtest.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace sptfs {
namespace {

const char kLoaderDenial[] =
    "path=/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\nrequested=x\nop=open\n"
    "label=libObj\ndomain=fooDom(12)\nrule=no rule\ntime=1000.250\npid=77\ncount=1\n";

ExecFailure Failure(const std::string& path, int64_t start_ms = 1000250) {
  return ExecFailure{EPERM, start_ms, path};
}

TEST(ExecReport, NamesTheLoaderWhenTheProgramItselfWasAllowed) {
  EXPECT_EQ(ExecFailureLine("/usr/sbin/nginx", Failure("/usr/sbin/nginx"),
                            ParseDenial(kLoaderDenial), ""),
            "spt-run: /usr/sbin/nginx: Operation not permitted: its loader or interpreter "
            "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 was denied (x, label libObj, domain "
            "fooDom)");
}

TEST(ExecReport, PathsAreShownAsTheWorldSeesThem) {
  std::string line = ExecFailureLine("nginx", Failure("/mnt/t/usr/sbin/nginx"),
                                     ParseDenial(kLoaderDenial), "/mnt/t");
  EXPECT_NE(line.find("interpreter /mnt/t/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 was"),
            std::string::npos)
      << line;
}

TEST(ExecReport, TheProgramItselfOrNoDenialKeepsThePlainLine) {
  const std::string plain = "spt-run: prog: Operation not permitted";
  auto own = ParseDenial("path=/opt/prog\nrequested=x\nlabel=a\ndomain=d(1)\ntime=1000.250\n");
  EXPECT_EQ(ExecFailureLine("prog", Failure("/opt/prog"), own, ""), plain);
  EXPECT_EQ(ExecFailureLine("prog", Failure("/opt/prog"), {}, ""), plain);
  // A denial from before this exec is not its cause.
  EXPECT_EQ(ExecFailureLine("prog", Failure("/opt/prog", 1000251), ParseDenial(kLoaderDenial), ""),
            plain);
}

TEST(ExecReport, RuleAndOtherAccessesAreNamed) {
  auto d = ParseDenial(
      "path=/lib/x.so\nrequested=r\nlabel=libObj\ndomain=fooDom(3)\nrule=-r /lib \n"
      "time=2000.000\n");
  EXPECT_EQ(ExecFailureLine("/bin/p", ExecFailure{EACCES, 2000000, "/usr/bin/p"}, d, ""),
            "spt-run: /bin/p: Permission denied: /lib/x.so was denied (r, label libObj, domain "
            "fooDom, rule -r /lib )");
}

TEST(ExecReport, ExecutedPathFollowsPathAndSymlinks) {
  EXPECT_EQ(ExecutedPath("/no/such/prog"), "/no/such/prog");
  std::string sh = ExecutedPath("sh");  // found in PATH, its links resolved
  EXPECT_EQ(sh[0], '/') << sh;
  char real[PATH_MAX];
  ASSERT_NE(realpath(sh.c_str(), real), nullptr) << sh;
  EXPECT_EQ(sh, real);
  EXPECT_EQ(access(sh.c_str(), X_OK), 0) << sh;
}

}  // namespace
}  // namespace sptfs
