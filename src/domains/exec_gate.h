// The exec gate: holds a thread that is in execve at the moment its exec attempt ends,
// before the new program runs a single instruction, so an exec transition can be
// decided on what was really exec'ed (docs/THREAT-MODEL.md, "Who is calling").
//
// Mechanism: ptrace. Hold() is called during the exec-open (the thread is blocked in the
// kernel, inside execve, waiting for our reply): the gate's own thread seizes the thread
// with PTRACE_SEIZE(PTRACE_O_TRACEEXEC) and asks for a stop (PTRACE_INTERRUPT). The
// kernel then stops it either at PTRACE_EVENT_EXEC (the exec succeeded: the new image is
// in place, its loader has not run) or, if the exec failed, at the first stop on its way
// back to user space (the interrupt, a signal, a group stop). `decide` runs on the gate's
// thread during that stop, then the gate detaches and the thread goes on.
// A ptrace stop is not a job-control stop: SIGCONT from anyone does not end it, the
// parent's waitpid does not see it, and nobody else can attach meanwhile.
// Needs CAP_SYS_PTRACE over the caller (a root daemon); Hold() fails otherwise, and then
// the caller must not transition (fail closed).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "util/status.h"

namespace sptfs {

struct ExecStop {
  pid_t pid = 0;        // the process id (tgid) of the held thread, now
  bool execed = false;  // true: stopped at the end of a successful exec (new image)
  bool gone = false;    // the thread died before it stopped (decide must not touch /proc)
};

class ExecGate {
 public:
  using Decide = std::function<void(const ExecStop&)>;
  static std::unique_ptr<ExecGate> Open();
  ~ExecGate();

  // Seizes thread `tid` of process `tgid` (in execve now) and arranges for `decide` to
  // run once, at the stop that ends the exec attempt (or when it dies). Blocks only for
  // the seize itself (a round trip to the gate's thread). Fails (and `decide` never
  // runs) if the thread cannot be traced: gone, traced by someone else, no privilege.
  Status Hold(pid_t tid, pid_t tgid, Decide decide);
  // Threads held right now (tests, and the stats of `spt --ps` one day).
  size_t held();

 private:
  struct Request {
    pid_t tid = 0, tgid = 0;
    Decide decide;
    bool done = false;
    Status result;
  };
  struct Held {
    pid_t tgid = 0;
    Decide decide;
  };
  ExecGate() = default;
  void Loop();
  void Seize(Request* r);
  void Reap();  // waits for stops of held threads (non-blocking) and handles them
  void Finish(pid_t waited, int status);
  void Detach();  // lets go of the threads whose decision is done

  std::mutex mu_;
  std::condition_variable cv_;       // the loop: a request came, or stop
  std::condition_variable done_cv_;  // Hold: its request is done
  std::deque<Request*> requests_;
  bool stop_ = false;
  std::deque<std::pair<pid_t, long>> detach_;  // (tid, signal to pass on)
  int deciding_ = 0;
  std::map<pid_t, Held> held_;  // by tid and by tgid (a non-leader's exec takes the tgid)
  std::thread thread_;
};

}  // namespace sptfs
