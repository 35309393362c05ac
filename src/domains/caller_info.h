// Who made one request, as the domain tracker (tracker.h) identified it: a plain value
// that the audit log, the FUSE edge and the control socket pass around without needing
// the tracker itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "policy/model.h"

namespace sptfs {

struct CallerInfo {
  bool identified = false;  // false: pid 0 or gone from /proc; such a caller is denied
  pid_t pid = 0;            // thread group id, in the daemon's PID namespace
  pid_t tid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool placed = false;  // false: nobody placed it; domain is the default domain
  DomainId domain = 0;
  // The placed world (spt-run's PID namespace) the caller lives in, innermost first, as a
  // serial number the tracker gives each placement: 0 if none. A reused namespace inode
  // gets a new serial, so what was kept of an ended world is never a new one's.
  uint64_t world = 0;
  std::string comm;
  std::string exe;
};

}  // namespace sptfs
