// The filter and the supervisor for real (needs root for pidfd_getfd on the child):
// a child loads the filter, the test answers its notifications with a fake daemon.
#include "sandbox/supervisor.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "sandbox/notify_filter.h"
#include "sandbox/target_process.h"

namespace sptfs {
namespace {

class FakeDaemon : public SandboxDaemon {
 public:
  explicit FakeDaemon(SandboxRules rules) : rules_(std::move(rules)) {}
  Status Lookup(pid_t, SandboxRules* out) override {
    *out = rules_;
    return Status::Ok();
  }
  void Record(pid_t, const SandboxRules&, const SandboxRequest&, const SandboxVerdict& v) override {
    records.push_back((v.warning ? "warning " : "denied ") + v.missing);
  }
  std::vector<std::string> records;

 private:
  SandboxRules rules_;
};

// The child loads the filter, sends the listener's number, waits for 'g', then tries an
// AF_UNIX and an AF_NETLINK socket. Exit status: +1 unix failed, +4 unix ENOSYS,
// +2 netlink not EPERM, +8 netlink ENOSYS (0: unix allowed, netlink EPERM).
struct Child {
  pid_t pid = -1;
  int listener = -1;
  int go = -1;
};

int TryErrno(int family, int type) {
  int fd = socket(family, type, 0);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  return errno;
}

Child StartChild() {
  int up[2], down[2];
  EXPECT_EQ(pipe(up), 0);
  EXPECT_EQ(pipe(down), 0);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int listener = -1;
    if (!LoadNotifyFilter(FilterPlan{}, &listener).ok()) _exit(100);
    if (write(up[1], &listener, sizeof(listener)) != sizeof(listener)) _exit(101);
    char g;
    if (read(down[0], &g, 1) != 1) _exit(102);
    close(listener);
    int unix_err = TryErrno(AF_UNIX, SOCK_STREAM);
    int netlink_err = TryErrno(AF_NETLINK, SOCK_DGRAM);
    _exit((unix_err == 0        ? 0
           : unix_err == ENOSYS ? 4
                                : 1) +
          (netlink_err == EPERM    ? 0
           : netlink_err == ENOSYS ? 8
                                   : 2));
  }
  int number = -1;
  EXPECT_EQ(read(up[0], &number, sizeof(number)), static_cast<ssize_t>(sizeof(number)));
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, c.pid, 0));
  c.listener = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, number, 0));
  close(pidfd);
  c.go = down[1];
  close(up[0]);
  close(up[1]);
  close(down[0]);
  return c;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

SandboxRules UnixOnly(Level level) {
  SandboxRules r;
  r.name = "unixDom";
  r.id = 7;
  r.level = level;
  r.capabilities.insert("unix_socket_create");
  return r;
}

TEST(Supervisor, DecidesEachSocketCall) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (pidfd_getfd on the child)";
  Child c = StartChild();
  ASSERT_GE(c.listener, 0);
  FakeDaemon daemon(UnixOnly(Level::kEnforcing));
  SandboxSupervisor sup(c.listener, &daemon, 0);
  std::thread t([&] { sup.Run(); });
  ASSERT_EQ(write(c.go, "g", 1), 1);
  EXPECT_EQ(Wait(c.pid), 0);  // unix allowed, netlink EPERM
  t.join();
  EXPECT_EQ(daemon.records, std::vector<std::string>{"denied no rule grants AF_NETLINK sockets"});
  EXPECT_EQ(sup.stats().denied, 1u);
  EXPECT_EQ(sup.stats().allowed, 1u);
  close(c.listener);
  close(c.go);
}

TEST(Supervisor, WarningAllowsAndRecords) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (pidfd_getfd on the child)";
  Child c = StartChild();
  FakeDaemon daemon(UnixOnly(Level::kWarning));
  SandboxSupervisor sup(c.listener, &daemon, 0);
  std::thread t([&] { sup.Run(); });
  ASSERT_EQ(write(c.go, "g", 1), 1);
  EXPECT_EQ(Wait(c.pid), 2);  // netlink allowed: not EPERM
  t.join();
  EXPECT_EQ(daemon.records, std::vector<std::string>{"warning no rule grants AF_NETLINK sockets"});
  close(c.listener);
  close(c.go);
}

TEST(Supervisor, NoSupervisorMeansENOSYS) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (pidfd_getfd on the child)";
  Child c = StartChild();
  close(c.listener);  // the supervisor is gone before the calls
  ASSERT_EQ(write(c.go, "g", 1), 1);
  EXPECT_EQ(Wait(c.pid), 4 + 8);  // both calls fail with ENOSYS: closed
  close(c.go);
}

// A kept pidfd (SandboxDaemon::KeptPidfd) of a process that has ended is never taken for
// the one that asks now: the socket is looked up in the caller's own descriptor table.
TEST(TargetProcess, KeptPidfdOfAnEndedProcessIsNotUsed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (pidfd_getfd on the child)";
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  int kept = static_cast<int>(syscall(SYS_pidfd_open, gone, 0));
  ASSERT_GE(kept, 0);
  EXPECT_EQ(Wait(gone), 0);  // reaped: the pidfd now names no process
  int up[2], down[2];
  ASSERT_EQ(pipe(up), 0);
  ASSERT_EQ(pipe(down), 0);
  pid_t asker = fork();
  if (asker == 0) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (write(up[1], &fd, sizeof(fd)) != sizeof(fd)) _exit(1);
    char g;
    _exit(read(down[0], &g, 1) == 1 ? 0 : 2);
  }
  int fd = -1;
  ASSERT_EQ(read(up[0], &fd, sizeof(fd)), static_cast<ssize_t>(sizeof(fd)));
  int family = 0, type = 0;
  EXPECT_TRUE(TargetSocket(asker, fd, &family, &type, nullptr, kept));
  EXPECT_EQ(family, AF_INET);
  EXPECT_EQ(type, SOCK_DGRAM);
  ASSERT_EQ(write(down[1], "g", 1), 1);
  EXPECT_EQ(Wait(asker), 0);
  for (int f : {kept, up[0], up[1], down[0], down[1]}) close(f);
}

}  // namespace
}  // namespace sptfs
