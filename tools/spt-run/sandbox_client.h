// spt-run's side of the socket and syscall sandbox (docs/syscall-classes.md): the
// daemon over the control socket as the supervisor's SandboxDaemon, the filter plan
// from the policy, and taking the filter's listener from the world's first process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/client.h"
#include "sandbox/notify_filter.h"
#include "sandbox/supervisor.h"
#include "util/status.h"

namespace sptfs {

// Answers `sandbox query` from a cache when it can: an answer for thread TID is kept
// with a pidfd of that thread, opened before asking, and the daemon's sandbox epoch
// read before asking (control/sandbox_epoch.h). It is used again only while the thread
// lives (so its id is not someone else's) and the epoch has not moved (no policy
// published, no process placed or transitioned anywhere since). Everything else goes
// to the daemon.
class ControlSandboxDaemon : public SandboxDaemon {
 public:
  explicit ControlSandboxDaemon(std::string socket) : socket_(socket), session_(socket) {}
  ~ControlSandboxDaemon() override;
  Status Lookup(pid_t tid, SandboxRules* out) override;  // `sandbox query TID`
  void Record(pid_t tid, const SandboxRules& domain, const SandboxRequest& request,
              const SandboxVerdict& verdict) override;  // `sandbox record ...`
  Status MayMapExec(pid_t tid, const std::string& path, bool* allowed) override;  // `sandbox exec`
  int KeptPidfd(pid_t tid) override;  // the pidfd kept with a cached answer

 private:
  // Over one kept connection (a session), or a connection per call if the daemon
  // refuses sessions: it answers the same either way.
  Status Call(const std::vector<std::string>& argv, Reply* reply);

  struct Answer {
    int pidfd = -1;
    uint64_t session = 0, epoch = 0;
    SandboxRules rules;
  };
  bool Cached(pid_t tid, SandboxRules* out);
  void Keep(pid_t tid, int pidfd, uint64_t session, uint64_t epoch, const SandboxRules& rules);
  void Forget();

  std::string socket_;
  ControlSession session_;
  bool per_call_ = false;  // the daemon refused a session
  std::unordered_map<pid_t, Answer> answers_;
};

// The plan from `domain` and the domains a world in it can enter (`sandbox domains
// DOMAIN`), not from the whole policy.
// `reachable`, if given, gets those domains' rules.
Status PlanFromDaemon(const std::string& socket, const std::string& domain, FilterPlan* plan,
                      std::vector<SandboxRules>* reachable = nullptr);

// Where the daemon's mount is, for deciding executable mappings of its files: `mount`
// (spt-run's --mount; else the daemon's `info`), and whether the world sees it as "/".
Status ExecMapScopeOf(const std::string& socket, const std::string& mount, bool root,
                      bool generic_decided, ExecMapScope* out);

// Waits (up to `timeout_ms`) until process `pid` holds a seccomp notification listener
// and returns our own copy of it (pidfd_getfd).
Status TakeListener(pid_t pid, int timeout_ms, int* listener);

}  // namespace sptfs
