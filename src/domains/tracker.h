// Who is calling, and in which domain. The FUSE edge asks Identify() for the thread id
// of each mediated request; the control socket places new process trees in domains;
// exec transitions move one process. Design and guarantees: docs/THREAT-MODEL.md.
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "domains/caller_info.h"
#include "policy/model.h"
#include "util/status.h"

namespace sptfs {

struct ConfinedProcess {
  pid_t pid = 0;
  DomainId domain = 0;
  std::string comm;
};

class DomainTracker {
 public:
  // `state_file`: where placements survive a daemon restart ("" = not kept).
  static Status Open(const std::string& state_file, std::unique_ptr<DomainTracker>* out);
  virtual ~DomainTracker() = default;

  // Never fails: an unidentifiable caller comes back with identified = false.
  virtual CallerInfo Identify(pid_t tid, DomainId default_domain) = 0;
  // Puts process `pid` and every descendant it will have into `domain`.
  virtual Status Place(pid_t pid, DomainId domain) = 0;
  // Exec transition, called while thread `tid` is in execve (its exec-open): the process
  // runs in `domain` once the exec has replaced its program (/proc/<pid>/exe changed);
  // if the exec fails it stays where it was. Children it has now keep the old domain.
  virtual Status Transition(pid_t tid, DomainId domain) = 0;
  // The same, exact: the new program must be the file whose inode number, as the kernel
  // sees it through the mount, is `exec_ino`; an exec that fails and is followed by an
  // exec of something else then moves nothing. Default: Transition().
  virtual Status TransitionOnExec(pid_t tid, DomainId domain, uint64_t exec_ino) {
    (void)exec_ino;
    return Transition(tid, domain);
  }
  // Live processes per domain (WorldRefCount) and the list for `spt --ps`.
  virtual std::map<DomainId, int> WorldCounts() = 0;
  virtual std::vector<ConfinedProcess> List() = 0;
};

}  // namespace sptfs
