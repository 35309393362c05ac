// Test-only helpers: real processes (forks, PID namespaces) that report their pids over
// a pipe and stay alive until the test kills them. Used by the domains unit tests.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace sptfs::testing {

// This process's pid as the daemon (the outer /proc) sees it, also from inside a PID
// namespace: /proc here is the test's, so /proc/self names the outer pid.
inline pid_t OuterPid() {
  char buf[32] = {};
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  return n > 0 ? static_cast<pid_t>(atoi(buf)) : -1;
}

inline void Report(int fd, pid_t pid) {
  if (write(fd, &pid, sizeof pid) != sizeof pid) _exit(3);
}

inline void SleepForever() {
  for (;;) pause();
}

// Blocks until the test calls ProcTree::Go() (or the test dies).
inline void WaitGo(int go_fd) {
  char c;
  if (read(go_fd, &c, 1) != 1) _exit(4);
}

// A tree of processes that runs `body(report_fd, go_fd)` in its first child; everything
// it reports is read back with Next(); WaitGo(go_fd) in the body waits for Go().
// Killing: the destructor kills the first child's process group and every reported pid.
class ProcTree {
 public:
  explicit ProcTree(const std::function<void(int, int)>& body) {
    int report[2], go[2];
    if (pipe2(report, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) abort();
    pid_ = fork();
    if (pid_ == 0) {
      close(report[0]);
      close(go[1]);
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      body(report[1], go[0]);
      SleepForever();
    }
    setpgid(pid_, pid_);
    close(report[1]);
    close(go[0]);
    read_fd_ = report[0];
    go_fd_ = go[1];
  }
  ProcTree(const ProcTree&) = delete;
  ProcTree& operator=(const ProcTree&) = delete;
  ~ProcTree() {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    for (pid_t p : extra_) {
      if (p > 1) kill(p, SIGKILL);  // never 0 or -1: that would be our own group
    }
    waitpid(pid_, nullptr, 0);
    close(read_fd_);
    close(go_fd_);
  }
  void Go() {
    if (write(go_fd_, "g", 1) != 1) abort();
  }
  // A line for a shell's `read` (after ExecShell the go pipe is its stdin).
  void GoLine() {
    if (write(go_fd_, "g\n", 2) != 2) abort();
  }
  // The next line a shell started by ExecShell printed, without the newline.
  std::string ReadLine() {
    std::string line;
    char c;
    while (read(read_fd_, &c, 1) == 1 && c != '\n') line += c;
    return line;
  }
  pid_t pid() const { return pid_; }
  // The next pid `body` reported, or -1 if it died first.
  pid_t Next() {
    pid_t p = -1;
    if (read(read_fd_, &p, sizeof p) != sizeof p) return -1;
    extra_.push_back(p);
    return p;
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
  int go_fd_ = -1;
  std::vector<pid_t> extra_;
};

// Forks a child that runs `body` and never returns from it (sleeps after).
inline pid_t ForkRun(const std::function<void()>& body) {
  pid_t p = fork();
  if (p == 0) {
    body();
    SleepForever();
  }
  return p;
}

// Replaces the process with `sh -c script`, its stdin the go pipe and its stdout the
// report pipe (so ProcTree::GoLine and ReadLine talk to it).
[[noreturn]] inline void ExecShell(int report, int go, const char* script) {
  if (dup2(go, 0) < 0 || dup2(report, 1) < 0) _exit(5);
  execl("/bin/sh", "sh", "-c", script, static_cast<char*>(nullptr));
  _exit(6);
}

// Like ForkRun, but returns the child's pid as the outer /proc sees it, also when the
// caller is inside a PID namespace (where fork() returns the inner pid).
inline pid_t ForkOuter(const std::function<void()>& body) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t inner = ForkRun([&] {
    close(fds[0]);
    Report(fds[1], OuterPid());
    close(fds[1]);
    body();
  });
  close(fds[1]);
  pid_t outer = -1;
  if (inner < 0 || read(fds[0], &outer, sizeof outer) != sizeof outer) outer = -1;
  close(fds[0]);
  return outer;
}

}  // namespace sptfs::testing
