// Who is calling, and in which domain. The FUSE edge asks Identify() for the thread id
// of each mediated request; the control socket places new process trees in domains;
// exec transitions move one process. Design and guarantees: docs/THREAT-MODEL.md.
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "domains/caller_info.h"
#include "domains/state_file.h"
#include "policy/model.h"
#include "util/status.h"

namespace sptfs {

// What an exec transition must end up running.
struct ExecTarget {
  uint64_t dev = 0;   // st_dev of the mount, as the kernel shows it
  uint64_t node = 0;  // FUSE node id of the exec-opened file (not a "#!" script)
  // A "#!" script: the interpreter's path from its first line (resolved in the process's
  // root); the program that must run is that file, not the script.
  std::string interpreter;
};
using ExecReport = std::function<void(const std::string& refused_because)>;

struct ConfinedProcess {
  pid_t pid = 0;
  DomainId domain = 0;
  std::string comm;
};

// Writes a snapshot of the placements to the state file (SaveTrackerState by default).
using StateWriter = std::function<Status(const TrackerState&)>;

class DomainTracker {
 public:
  // `state_file`: where placements survive a daemon restart ("" = not kept). It is
  // written by a thread of the tracker, never by a request (Place waits for it); the
  // destructor writes the newest state before it returns. `write` (tests): writes it
  // instead of SaveTrackerState, e.g. slowly.
  static Status Open(const std::string& state_file, std::unique_ptr<DomainTracker>* out,
                     StateWriter write = nullptr);
  virtual ~DomainTracker() = default;

  // Never fails: an unidentifiable caller comes back with identified = false.
  virtual CallerInfo Identify(pid_t tid, DomainId default_domain) = 0;
  // Puts process `pid` and every descendant it will have into `domain`. Returns once
  // the state file holds it (fails if it cannot be written; the placement holds anyway).
  virtual Status Place(pid_t pid, DomainId domain) = 0;
  // Exec transition without a check of what runs (tests and tools only; the mount uses
  // ExecTransition): the process runs in `domain` once /proc/<pid>/exe has changed; if
  // the exec fails it stays where it was. Children it has now keep the old domain.
  virtual Status Transition(pid_t tid, DomainId domain) = 0;
  // The exec transition of the mount, called during the exec-open by thread `tid` (in
  // execve now). The thread is held at the end of its exec attempt (exec_gate.h), and
  // the process moves to `domain` only if, at that moment, the exec succeeded, the new
  // program is `target` (the exec-opened file, or the interpreter a script names), and
  // its environment is safe (secure_env.h). Until then, and otherwise, it stays where it
  // was. `report` gets "" (moved) or why not, on the gate's thread, while it is held.
  // Fails (nothing pending, nothing moves) if the thread cannot be held.
  virtual Status ExecTransition(pid_t tid, DomainId domain, const ExecTarget& target,
                                ExecReport report) {
    (void)tid, (void)domain, (void)target, (void)report;
    return Status::Permission("exec transitions need the exec gate");
  }
  // How often the kernel reported dropped process events (proc_events.h); 0 without them.
  virtual uint64_t EventsLost() const { return 0; }
  // Called (under the tracker's lock: quick, and never calling back into the tracker)
  // after every change of a process's domain: a placement, a transition begun, settled
  // or refused. Set once, before the mount serves. The sandbox epoch's bump.
  virtual void SetChangeHook(std::function<void()> hook) { (void)hook; }
  // Writes the newest state to the state file, then stops the tracker's own threads:
  // later changes are not written (Place then fails), answers stay right. The daemon's
  // last word on the file at shutdown, before it decides whether to keep it (run_dir.h).
  virtual void Shutdown() {}
  // Live processes per domain (WorldRefCount) and the list for `spt --ps`.
  virtual std::map<DomainId, int> WorldCounts() = 0;
  virtual std::vector<ConfinedProcess> List() = 0;
};

}  // namespace sptfs
