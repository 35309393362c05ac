#include "world_init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "exec_report.h"
#include "sandbox.h"

namespace sptfs {
namespace {

constexpr int kExitSetupFailed = 125;

[[noreturn]] void Die(const std::string& msg, int code) {
  std::fprintf(stderr, "spt-run: %s\n", msg.c_str());
  _exit(code);
}

// "spt-run: WHAT: strerror(err)" (printf, not string concatenation: GCC 12's -Wrestrict
// misfires on `std::string + const char*` at -O2).
[[noreturn]] void DieErrno(const std::string& what, int err, int code) {
  std::fprintf(stderr, "spt-run: %s: %s\n", what.c_str(), strerror(err));
  _exit(code);
}

void NoOp(int) {}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitSetupFailed;
}

// The program: undo the signal set-up, become the user, exec. Never returns. A refused
// exec is reported to spt-run over `report_fd` (close-on-exec), exec_report.h.
[[noreturn]] void StartProgram(const WorldPlan& plan, int report_fd) {
  sigset_t none;
  sigemptyset(&none);
  for (int sig : ForwardedSignals()) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (plan.switch_user) {
    if (Status s = SwitchUser(plan.identity); !s.ok()) Die(s.message(), kExitSetupFailed);
  }
  const char* cwd = !plan.options.cwd.empty() ? plan.options.cwd.c_str()
                    : plan.options.root       ? "/"
                                              : nullptr;
  if (cwd != nullptr && chdir(cwd) != 0) {
    DieErrno(std::string("cannot enter ").append(cwd), errno, kExitSetupFailed);
  }
  std::vector<char*> argv;
  for (const std::string& a : plan.options.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int64_t start_ms = RealtimeMs();
  execvp(argv[0], argv.data());
  int err = errno;
  if (err == EPERM || err == EACCES) ReportExecFailure(report_fd, argv[0], err, start_ms);
  DieErrno(plan.options.command[0], err, err == ENOENT ? 127 : 126);
}

}  // namespace

const std::vector<int>& ForwardedSignals() {
  static const std::vector<int> kSignals = {SIGHUP,  SIGINT,  SIGQUIT,  SIGTERM, SIGUSR1,
                                            SIGUSR2, SIGALRM, SIGWINCH, SIGCONT};
  return kSignals;
}

void RunWorldInit(const WorldPlan& plan) {
  char go = 0;
  while (read(plan.go_fd, &go, 1) < 0 && errno == EINTR) {
  }
  if (go != 'g') _exit(kExitSetupFailed);  // not placed: spt-run said why
  // Descriptors spt-run's caller left open (a directory of the host, say) would lead
  // out of the tree: the world keeps only stdin, stdout and stderr (and, until the
  // sandbox filter is supervised, the pipe from spt-run, moved to 3).
  if (dup2(plan.go_fd, 3) != 3) {
    DieErrno("cannot keep the pipe from spt-run", errno, kExitSetupFailed);
  }
  if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0) {
    for (int fd = 4; fd < 1024; ++fd) close(fd);
  }
  const int go_fd = 3;
  std::string tree = plan.options.root ? plan.options.mount : "";
  if (Status s = EnterTree(tree, !plan.options.no_proc); !s.ok())
    Die(s.message(), kExitSetupFailed);
  if (Status s = DropPrivileges(plan.kept_capabilities); !s.ok())
    Die(s.message(), kExitSetupFailed);
  if (Status s = ApplyHostLayer(plan.host_layer); !s.ok()) Die(s.message(), kExitSetupFailed);
  if (Status s = DenyTracing(); !s.ok()) Die(s.message(), kExitSetupFailed);
  // The socket and syscall filter: spt-run takes its listener from us (pidfd_getfd) and
  // says 's' when it answers; our own calls are always allowed by it.
  int listener = -1;
  if (Status s = LoadNotifyFilter(plan.filter, &listener); !s.ok()) {
    Die(s.message(), kExitSetupFailed);
  }
  char ready = 0;
  while (read(go_fd, &ready, 1) < 0 && errno == EINTR) {
  }
  if (ready != 's') _exit(kExitSetupFailed);  // spt-run could not supervise: it said why
  close(listener);
  // The channel stays open for the program's process, which reports a refused exec on it;
  // the program itself never has it.
  fcntl(go_fd, F_SETFD, FD_CLOEXEC);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // the program may not read or trace this process
  // A PID namespace's first process gets only the signals it handles: handle, block,
  // and take them with sigwaitinfo (the mask was already set by spt-run).
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGCHLD);
  for (int sig : ForwardedSignals()) {
    signal(sig, NoOp);
    sigaddset(&wait_set, sig);
  }
  sigprocmask(SIG_BLOCK, &wait_set, nullptr);
  pid_t program = fork();
  if (program < 0) DieErrno("cannot fork", errno, kExitSetupFailed);
  if (program == 0) StartProgram(plan, go_fd);
  close(go_fd);  // spt-run sees the channel end when the program's exec succeeded
  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&wait_set, &info) < 0) continue;
    if (info.si_signo != SIGCHLD) {
      // From a process (spt-run's forwarding, kill in the world), not from the terminal:
      // a terminal's signal already reached the program through its process group.
      if (info.si_code <= 0) kill(program, info.si_signo);
      continue;
    }
    int status = 0;
    pid_t done;
    while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
      if (done == program) _exit(ExitCodeOf(status));
    }
  }
}

}  // namespace sptfs
