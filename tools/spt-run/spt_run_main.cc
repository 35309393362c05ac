// spt-run: starts a program confined to a domain by the sptfs daemon (docs/spt-run.md).
//
// Order matters: the world's first process is created in new PID, mount and IPC namespaces,
// the daemon places it (authorising us by our own domain), and only then is it told to
// go on and run the program, so nothing runs unconfined even for a moment.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <system_error>
#include <thread>

#include "control/client.h"
#include "exec_report.h"
#include "host_layer.h"
#include "options.h"
#include "sandbox.h"
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

bool IsStopSignal(int sig) {
  return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

// Kills the whole world (its first process is the PID namespace's init: every process
// in it dies with it) when the program would not stop.
void Escalate(pid_t world, const std::string& why) {
  std::fprintf(stderr, "spt-run: %s: killing the confined world (SIGKILL)\n", why.c_str());
  kill(world, SIGKILL);
}

// Waits for the world, passing on signals sent to us by other processes. A program may
// ignore the stop signal it is passed (a refused call can leave it in that state): a
// second stop signal, or `kill_after` seconds after the first, kills the world.
int Supervise(pid_t world, const sigset_t& wait_set, int kill_after) {
  using Clock = std::chrono::steady_clock;
  bool stopping = false;
  Clock::time_point deadline;
  for (;;) {
    siginfo_t info;
    int sig;
    if (stopping && kill_after > 0) {
      auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        Escalate(world,
                 "the program did not stop " + std::to_string(kill_after) + " s after the signal");
        kill_after = 0;  // once
        continue;
      }
      struct timespec ts {
        static_cast<time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)
      };
      sig = sigtimedwait(&wait_set, &info, &ts);
    } else {
      sig = sigwaitinfo(&wait_set, &info);
    }
    if (sig < 0) continue;  // EINTR, or the deadline (checked above)
    if (sig == SIGCHLD) {
      int status = 0;
      if (waitpid(world, &status, WNOHANG) == world) {
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      }
      continue;
    }
    if (IsStopSignal(sig) && stopping) {
      Escalate(world, std::string("second stop signal (") + strsignal(sig) + ")");
      continue;
    }
    if (IsStopSignal(sig)) {
      stopping = true;
      deadline = Clock::now() + std::chrono::seconds(kill_after);
    }
    if (info.si_code <= 0) kill(world, sig);  // kill(1), not the terminal (that reached the world)
  }
}

// The socket and syscall supervisor of one world, served by a thread of its own.
struct Supervisor {
  explicit Supervisor(const std::string& socket, int listener, pid_t world)
      : daemon(socket), sup(listener, &daemon, world) {}
  sptfs::ControlSandboxDaemon daemon;
  sptfs::SandboxSupervisor sup;
  std::promise<void> done;  // set when the thread has stopped serving
  std::future<void> finished = done.get_future();
};

// Test hook (docs/spt-run.md): SPT_RUN_TEST_SUPERVISOR=fail-start|fail-serve makes the
// supervisor fail before the program starts, or as soon as it would serve.
bool SupervisorHook(const char* what) {
  const char* v = std::getenv("SPT_RUN_TEST_SUPERVISOR");
  return v != nullptr && std::strcmp(v, what) == 0;
}

// Takes the world's listener and starts serving it; "" on success, else why not (the
// program must then not start). Whenever the thread stops serving, it closes the
// listener: the kernel then fails every notified call with ENOSYS instead of leaving
// it waiting for an answer that never comes (fail closed).
std::string StartSupervisor(const std::string& socket, pid_t world,
                            const sptfs::ExecMapScope& exec_maps,
                            std::shared_ptr<Supervisor>* out) {
  int listener = -1;
  if (Status s = sptfs::TakeListener(world, 10000, &listener); !s.ok()) return s.message();
  auto sup = std::make_shared<Supervisor>(socket, listener, world);
  sup->sup.set_exec_maps(exec_maps);
  Status started = SupervisorHook("fail-start")
                       ? Status::Io(EIO, "SPT_RUN_TEST_SUPERVISOR=fail-start")
                       : sup->sup.Start();
  if (!started.ok()) {
    close(listener);
    return "cannot start the socket and syscall supervisor: " + started.message();
  }
  try {
    std::thread([sup, listener] {
      Status s = SupervisorHook("fail-serve")
                     ? Status::Io(EIO, "SPT_RUN_TEST_SUPERVISOR=fail-serve")
                     : sup->sup.Run();
      close(listener);
      if (!s.ok()) {
        std::fprintf(stderr,
                     "spt-run: the socket and syscall supervisor stopped (%s): the calls it "
                     "decides now fail with ENOSYS\n",
                     s.message().c_str());
      }
      sup->done.set_value();
    }).detach();
  } catch (const std::system_error& e) {
    close(listener);
    return std::string("cannot start the socket and syscall supervisor: ") + e.what();
  }
  *out = std::move(sup);
  return "";
}

// SPT_RUN_STATS=1: how many calls the supervisor answered (docs/spt-run.md), once it
// has stopped (the world's last process gone), waiting at most 5 s for that.
void PrintStats(const Supervisor& sup) {
  if (sup.finished.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    std::fprintf(stderr, "spt-run: stats: the supervisor is still serving\n");
    return;
  }
  const sptfs::SupervisorStats& st = sup.sup.stats();
  std::fprintf(
      stderr,
      "spt-run: stats: notified=%llu allowed=%llu denied=%llu warned=%llu sync_wake_up=%d\n",
      static_cast<unsigned long long>(st.allowed) + st.denied,
      static_cast<unsigned long long>(st.allowed), static_cast<unsigned long long>(st.denied),
      static_cast<unsigned long long>(st.warned), st.sync_wake_up ? 1 : 0);
}

// Where the tree is in the world ("" with --root, else the mount's real path), to name
// a denied file as the program sees it.
std::string TreePrefix(const std::string& socket, const sptfs::RunOptions& opts,
                       const sptfs::ExecMapScope& exec_maps) {
  if (opts.root) return "";
  if (exec_maps.enabled) return exec_maps.prefix;
  sptfs::ExecMapScope scope;
  if (!sptfs::ExecMapScopeOf(socket, opts.mount, false, false, &scope).ok()) return "";
  return scope.prefix;
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
  std::vector<sptfs::SandboxRules> reachable;
  if (Status s = sptfs::PlanFromDaemon(socket, opts.domain, &plan.filter, &reachable); !s.ok()) {
    return Fail(s.message());
  }
  plan.kept_capabilities = sptfs::KeptCapabilities(reachable);
  // Benchmark hook (bench/world/exec_bench.py): the cost of deciding executable maps.
  if (const char* v = std::getenv("SPT_RUN_TEST_NO_EXEC_MAPS"); v != nullptr && *v) {
    plan.filter.exec_maps = false;
  }
  sptfs::ExecMapScope exec_maps;
  if (plan.filter.exec_maps) {
    bool generic = plan.filter.classes.count("genericSys") > 0;
    if (Status s = sptfs::ExecMapScopeOf(socket, opts.mount, opts.root, generic, &exec_maps);
        !s.ok()) {
      return Fail(s.message());
    }
  }
  std::string notice;
  if (Status s = sptfs::PrepareHostLayer(socket, opts, &plan.host_layer, &notice); !s.ok()) {
    return Fail(s.message());
  }
  if (!notice.empty()) std::fprintf(stderr, "%s\n", notice.c_str());
  int go[2];  // 'g', 's' to the world; a refused exec back (exec_report.h)
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, go) != 0) {
    return Fail(std::string("socketpair: ") + strerror(errno));
  }
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGCHLD);
  for (int sig : sptfs::ForwardedSignals()) sigaddset(&wait_set, sig);
  sigprocmask(SIG_BLOCK, &wait_set, nullptr);  // before the clone: no signal is lost

  long world = syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | SIGCHLD, nullptr,
                       nullptr, nullptr, nullptr);
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
  if (send(go[1], "g", 1, MSG_NOSIGNAL) != 1) {
    Discard(pid);
    return Fail("the confined world died before it started");
  }
  std::shared_ptr<Supervisor> sup;
  if (std::string why = StartSupervisor(socket, pid, exec_maps, &sup); !why.empty()) {
    Discard(pid);
    return Fail(why);
  }
  if (send(go[1], "s", 1, MSG_NOSIGNAL) != 1) {
    Discard(pid);
    return Fail("the confined world died before it started");
  }
  std::thread reports;
  try {
    reports = std::thread(sptfs::ServeExecReports, go[1], socket, pid, opts.command[0],
                          [&] { return TreePrefix(socket, opts, exec_maps); });
  } catch (const std::system_error&) {
    shutdown(go[1], SHUT_RDWR);  // the program's process then prints its own line at once
  }
  int code = Supervise(pid, wait_set, opts.kill_after);
  if (reports.joinable()) reports.join();  // the world has ended: the channel is closed
  close(go[1]);
  if (const char* v = std::getenv("SPT_RUN_STATS"); v != nullptr && *v) PrintStats(*sup);
  return code;
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
