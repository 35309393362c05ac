// What the control socket's commands act on: the daemon's state, owned by the daemon's
// entry point (tools/sptfs_main.cc) and shared with the FUSE operations.
#pragma once

#include <string>

#include "audit/audit_log.h"
#include "audit/last_denial.h"
#include "domains/tracker.h"
#include "policy/policy_holder.h"
#include "policy/tree.h"

namespace sptfs {

class SandboxEpoch;
class ServiceNotifier;

struct DaemonContext {
  PolicyHolder* policy = nullptr;
  DomainTracker* tracker = nullptr;
  AuditLog* audit = nullptr;
  LastDenials* denials = nullptr;  // each world's last file denial (`last-denial`)
  const TreeView* tree = nullptr;  // the mounted tree, through its backing maps
  std::string mountpoint;
  std::string label_xattr;  // e.g. "trusted.spt.label"
  // The service manager (systemd Type=notify), told around policy loads; may be nullptr.
  const ServiceNotifier* notifier = nullptr;
  // Bumped on every policy publish and domain change, shared with supervisors
  // (sandbox_epoch.h); may be nullptr (then supervisors keep no answers).
  SandboxEpoch* epoch = nullptr;
};

}  // namespace sptfs
