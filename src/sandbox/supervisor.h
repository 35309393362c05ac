// Answers the notifications of a world's seccomp filter (notify_filter.h): for each
// intercepted call it asks the daemon for the caller's current domain, reads the
// socket address from the caller's memory, decides (decision.h), has the daemon record
// denials and warnings, and lets the call go on or fails it with EPERM.
//
//   SandboxSupervisor sup(listener, &daemon, world_init_pid);
//   if (sup.Start().ok()) sup.Run();  // until every process of the world has exited
//   close(listener);  // always: with no listener the kernel fails notified calls
//
// If the supervisor is gone, the kernel fails intercepted calls with ENOSYS: closed.
// A daemon that cannot be asked, or a caller it cannot identify, means EPERM.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/decision.h"
#include "sandbox/sandbox_rules.h"
#include "util/status.h"

struct seccomp_notif;
struct seccomp_notif_resp;

namespace sptfs {

// The daemon, as the supervisor sees it (tools/spt-run implements it over the control
// socket; tests can fake it).
class SandboxDaemon {
 public:
  virtual ~SandboxDaemon() = default;
  // The current domain of thread `tid` (a pid in the supervisor's PID namespace).
  virtual Status Lookup(pid_t tid, SandboxRules* out) = 0;
  virtual void Record(pid_t tid, const SandboxRules& domain, const SandboxRequest& request,
                      const SandboxVerdict& verdict) = 0;
  // May thread `tid` map the file at tree path `path` executable (`x`)? The daemon
  // records a denial itself. Not ok: cannot be asked (the caller then treats it as no).
  virtual Status MayMapExec(pid_t tid, const std::string& path, bool* allowed) {
    (void)tid, (void)path, (void)allowed;
    return Status::Invalid("this daemon does not decide executable mappings");
  }
  // A pidfd of thread `tid` kept with an earlier answer (valid until the next Lookup),
  // or -1. It may be of a thread that has ended since (its tid then names another).
  virtual int KeptPidfd(pid_t tid) {
    (void)tid;
    return -1;
  }
};

// Where the sptfs mount is, for the executable-mapping check (docs/syscall-classes.md):
// files on other devices are not sptfs's to decide (Landlock and the host decide).
struct ExecMapScope {
  bool enabled = false;
  dev_t mount_dev = 0;
  std::string prefix;            // the mount's path as spt-run sees it ("" with --root)
  bool generic_decided = false;  // genericSys calls are notified anyway: decide them too
};

struct SupervisorStats {
  uint64_t allowed = 0;
  uint64_t denied = 0;
  uint64_t warned = 0;
  uint64_t suppressed = 0;    // records not sent (more than kMaxRecordsPerSecond)
  bool sync_wake_up = false;  // the caller and the supervisor run in turn on one CPU (Start)
};

// A program looping on a denied call must not flood the audit log: beyond this many
// records a second, records are counted and the count goes with the next record sent.
inline constexpr int kMaxRecordsPerSecond = 50;

class SandboxSupervisor {
 public:
  // `world_init`: the world's first process (spt-run's own code, trusted: all its calls
  // are allowed; the program's launch exec, made by its child, is allowed once too).
  SandboxSupervisor(int listener, SandboxDaemon* daemon, pid_t world_init)
      : listener_(listener), daemon_(daemon), init_(world_init) {}
  ~SandboxSupervisor();
  SandboxSupervisor(const SandboxSupervisor&) = delete;
  SandboxSupervisor& operator=(const SandboxSupervisor&) = delete;

  // What Run needs that can fail (the notification buffers), so a supervisor that
  // cannot serve is known before the program starts.
  Status Start();
  // Serves until the listener reports that no process uses the filter any more, or
  // fails (poll error); after Start. The caller then closes the listener.
  Status Run();
  const SupervisorStats& stats() const { return stats_; }
  void set_exec_maps(ExecMapScope scope) { exec_maps_ = std::move(scope); }

 private:
  // True if the call may go on; fills `request` for the record.
  bool Handle(const seccomp_notif& n, bool* answer_needed);
  bool Build(const seccomp_notif& n, SandboxRequest* request, bool* exempt);
  bool IsLaunch(pid_t tid) const;
  std::vector<SandboxRequest> MessageRequests(const seccomp_notif& n, const SandboxRequest& base);

  int listener_;
  SandboxDaemon* daemon_;
  pid_t init_;
  void RecordLimited(pid_t tid, const SandboxRules& domain, const SandboxRequest& request,
                     SandboxVerdict verdict);

  seccomp_notif* req_ = nullptr;
  struct seccomp_notif_resp* resp_ = nullptr;
  bool IsExecMap(const seccomp_notif& n) const;
  bool ExecMapAllowed(const seccomp_notif& n);
  bool MayMapFile(pid_t tid, const std::string& link);
  ExecMapScope exec_maps_;
  bool launched_ = false;
  SupervisorStats stats_;
  int64_t window_ = -1;  // the second being counted (steady clock)
  int in_window_ = 0;
  uint64_t unreported_ = 0;
};

}  // namespace sptfs
