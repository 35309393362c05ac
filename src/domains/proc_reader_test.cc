#include "domains/proc_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "domains/test_procs.h"

namespace sptfs {
namespace {

TEST(ParseProcStat, CommWithSpacesAndParens) {
  ProcStat st;
  std::string text =
      "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
  ASSERT_TRUE(ParseProcStat(text, &st));
  EXPECT_EQ(st.comm, "a) b (c)");
  EXPECT_EQ(st.state, 'S');
  EXPECT_EQ(st.ppid, 7);
  EXPECT_EQ(st.start_time, 123456u);
}

TEST(ParseProcStat, RejectsTruncated) {
  ProcStat st;
  EXPECT_FALSE(ParseProcStat("42 (x) S 1 2 3", &st));
  EXPECT_FALSE(ParseProcStat("garbage", &st));
}

TEST(ProcReader, ReadsOwnProcess) {
  ProcReader reader;
  ProcStat st;
  ASSERT_TRUE(reader.ReadStat(getpid(), &st));
  EXPECT_EQ(st.ppid, getppid());
  EXPECT_GT(st.start_time, 0u);
  ProcStatus status;
  ASSERT_TRUE(reader.ReadStatus(getpid(), &status));
  EXPECT_EQ(status.tgid, getpid());
  EXPECT_EQ(status.uid, getuid());
  ASSERT_FALSE(status.ns_pids.empty());
  EXPECT_EQ(status.ns_pids.front(), getpid());
  EXPECT_FALSE(reader.ReadExe(getpid()).empty());
}

TEST(ProcReader, GoneProcessAnswersFalse) {
  ProcReader reader;
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  ProcStat st;
  EXPECT_FALSE(reader.ReadStat(child, &st));
  EXPECT_FALSE(reader.ReadStat(0, &st));
  std::vector<uint64_t> chain;
  EXPECT_FALSE(reader.PidNamespaceChain(child, &chain));
}

TEST(ProcReader, NamespaceChainOfNestedNamespaces) {
  ProcReader reader;
  std::vector<uint64_t> own;
  ASSERT_TRUE(reader.PidNamespaceChain(getpid(), &own));
  ASSERT_EQ(own.size(), 1u);  // the top: NS_GET_PARENT stops at our own namespace
  EXPECT_EQ(own.front(), reader.OwnPidNamespace());
  // Two levels down: a namespace inside a namespace.
  testing::ProcTree tree([](int report, int) {
    if (unshare(CLONE_NEWPID) != 0) _exit(2);
    testing::ForkRun([report] {
      if (unshare(CLONE_NEWPID) != 0) _exit(2);
      testing::ForkRun([report] { testing::Report(report, testing::OuterPid()); });
    });
  });
  pid_t inner = tree.Next();
  ASSERT_GT(inner, 0);
  std::vector<uint64_t> chain;
  ASSERT_TRUE(reader.PidNamespaceChain(inner, &chain));
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain.back(), own.front());
  EXPECT_NE(chain[0], chain[1]);
  ProcStatus status;
  ASSERT_TRUE(reader.ReadStatus(inner, &status));
  ASSERT_EQ(status.ns_pids.size(), 3u);
  EXPECT_EQ(status.ns_pids.back(), 1);
}

TEST(ProcReader, ChildrenAndAllProcesses) {
  ProcReader reader;
  testing::ProcTree tree([](int report, int) { testing::Report(report, testing::ForkRun([] {})); });
  pid_t child = tree.Next();
  std::vector<pid_t> children = reader.Children(tree.pid());
  EXPECT_EQ(children, std::vector<pid_t>{child});
  std::vector<pid_t> all = reader.AllProcesses();
  EXPECT_NE(std::find(all.begin(), all.end(), child), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), getpid()), all.end());
}

}  // namespace
}  // namespace sptfs
