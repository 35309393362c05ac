// The stale-rule watch (issue 18): a thread of its own watches, with inotify, the
// directories that hold the symlinks the compiled -r rules went through. On a change it
// re-resolves the rules through the tree and writes one `type=SPT_STALE_RULE` audit
// record per rule that moved (docs/audit.md). Enforcement is untouched (ESXi's
// behaviour) unless the policy says `on_stale = "reload"`: then it reloads the policy as
// `spt -p` does and records that. Why inotify on the backing directories: a change
// through the mount reaches the backing store through the daemon, and a change made
// behind the mount lands there directly, so one watch sees both (docs/productlocker.md).
// FUSE threads do no work for it: they never see it.
#pragma once

#include <memory>

#include "control/daemon_context.h"
#include "util/status.h"

namespace sptfs {

class StaleWatcher {
 public:
  // Starts watching ctx's policy and tree (both must be set; they must outlive the
  // watcher). Installs the policy holder's publish hook, so a reload re-aims the watch.
  static Status Start(DaemonContext* ctx, std::unique_ptr<StaleWatcher>* out);
  virtual ~StaleWatcher() = default;  // stops and joins
};

// What `spt -p` does once it is authorised: refuses while a runtime domain still has
// processes (a load drops runtime domains), then loads `dir` ("" = the current source
// directory) and compiles it against ctx's tree. Used by spt -p and by on_stale=reload.
Status ReloadPolicyNow(DaemonContext* ctx, const std::string& dir,
                       std::vector<std::string>* warnings);

}  // namespace sptfs
