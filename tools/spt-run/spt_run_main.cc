// spt-run: starts a program confined to a domain by the sptfs daemon (docs/spt-run.md).
//
// Order matters: the world's first process is created in new PID and mount namespaces,
// the daemon places it (authorising us by our own domain), and only then is it told to
// go on and run the program, so nothing runs unconfined even for a moment.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "control/client.h"
#include "host_layer.h"
#include "options.h"
#include "sandbox_client.h"
#include "world_init.h"

namespace {

using sptfs::Status;

constexpr int kExitFailed = 125;

int Fail(const std::string& msg) {
  std::string line = msg.rfind("spt-run: ", 0) == 0 ? msg : "spt-run: " + msg;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  std::fprintf(stderr, "%s\n", line.c_str());
  return kExitFailed;
}

void Discard(pid_t world) {
  kill(world, SIGKILL);
  waitpid(world, nullptr, 0);
}

// Asks the daemon to place `world` in the domain; "" on success, else why not.
std::string Place(const std::string& socket, pid_t world, const std::string& domain) {
  sptfs::Reply reply;
  Status s = sptfs::CallDaemon(socket, {"place", std::to_string(world), domain}, &reply);
  if (!s.ok()) return "cannot reach the sptfs daemon at " + socket + ": " + s.message();
  if (reply.exit_code != 0) {
    std::string why = reply.err.empty() ? reply.out : reply.err;
    return why.empty() ? "the daemon refused to place the program in " + domain : why;
  }
  return "";
}

// Waits for the world, passing on signals sent to us by other processes.
int Supervise(pid_t world, const sigset_t& wait_set) {
  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&wait_set, &info) < 0) continue;
    if (info.si_signo == SIGCHLD) {
      int status = 0;
      if (waitpid(world, &status, WNOHANG) == world) {
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      }
    } else if (info.si_code <= 0) {  // kill(1), not the terminal (that reached the world)
      kill(world, info.si_signo);
    }
  }
}

int Run(const sptfs::RunOptions& opts) {
  sptfs::WorldPlan plan;
  plan.options = opts;
  if (!opts.user.empty()) {
    if (Status s = sptfs::ResolveUser(opts.user, &plan.identity); !s.ok()) return Fail(s.message());
    plan.switch_user = true;
  }
  std::string socket;
  if (Status s = sptfs::ChooseSocket(opts.socket, opts.mount, &socket); !s.ok()) {
    return Fail(s.message());
  }
  struct stat st;
  if (opts.root && (stat(opts.mount.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    return Fail("the tree " + opts.mount + " is not a directory (expected the sptfs mount)");
  }
  if (Status s = sptfs::PlanFromDaemon(socket, &plan.filter); !s.ok()) return Fail(s.message());
  std::string notice;
  if (Status s = sptfs::PrepareHostLayer(socket, opts, &plan.host_layer, &notice); !s.ok()) {
    return Fail(s.message());
  }
  if (!notice.empty()) std::fprintf(stderr, "%s\n", notice.c_str());
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) return Fail(std::string("pipe: ") + strerror(errno));
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGCHLD);
  for (int sig : sptfs::ForwardedSignals()) sigaddset(&wait_set, sig);
  sigprocmask(SIG_BLOCK, &wait_set, nullptr);  // before the clone: no signal is lost

  long world =
      syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (world < 0) {
    return Fail(std::string("cannot create the namespaces of a confined world: ") +
                strerror(errno) + " (spt-run must run as root)");
  }
  if (world == 0) {
    close(go[1]);
    plan.go_fd = go[0];
    sptfs::RunWorldInit(plan);
  }
  close(go[0]);
  pid_t pid = static_cast<pid_t>(world);
  if (std::string why = Place(socket, pid, opts.domain); !why.empty()) {
    Discard(pid);
    return Fail(why);
  }
  if (write(go[1], "g", 1) != 1) {
    Discard(pid);
    return Fail("the confined world died before it started");
  }
  // The socket and syscall supervisor runs beside us until the world is gone; if we
  // die, the kernel fails the calls it would have decided (ENOSYS): closed.
  int listener = -1;
  if (Status s = sptfs::TakeListener(pid, 10000, &listener); !s.ok()) {
    Discard(pid);
    return Fail(s.message());
  }
  std::thread([listener, socket, pid] {
    sptfs::ControlSandboxDaemon daemon(socket);
    sptfs::SandboxSupervisor(listener, &daemon, pid).Run();
  }).detach();
  if (write(go[1], "s", 1) != 1) {
    Discard(pid);
    return Fail("the confined world died before it started");
  }
  close(go[1]);
  return Supervise(pid, wait_set);
}

}  // namespace

int main(int argc, char** argv) {
  sptfs::RunOptions opts;
  Status s = sptfs::ParseRunOptions(std::vector<std::string>(argv + 1, argv + argc), &opts);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n%s", s.message().c_str(), sptfs::RunUsage());
    return kExitFailed;
  }
  if (opts.help) {
    std::fputs(sptfs::RunUsage(), stdout);
    return 0;
  }
  if (opts.version) {
    std::puts("spt-run " SPTFS_VERSION);
    return 0;
  }
  return Run(opts);
}
