// The thin edge of the Landlock layer: asks the kernel which Landlock ABI it has, reads
// the host for the planner (a HostView over stat and readdir), and turns a LandlockPlan
// (landlock_rules.h) into a ruleset enforced on the calling process and everything it
// starts. Needs no_new_privs (or CAP_SYS_ADMIN) before ApplyLandlock.
#pragma once

#include "sandbox/landlock_rules.h"
#include "util/status.h"

namespace sptfs {

// The kernel's Landlock ABI (0: none, or the LSM is not enabled). Test hook: the
// environment variable SPT_RUN_TEST_LANDLOCK_ABI=N makes it min(N, the kernel's), so a
// test can pretend an older kernel; it can only lower the ABI, never raise it.
int LandlockAbi();

class RealHostView : public HostView {
 public:
  HostKind Kind(const std::string& path) override;
  std::vector<std::pair<std::string, HostKind>> List(const std::string& dir) override;
  std::string Resolve(const std::string& path) override;  // realpath of the existing part
};

// Builds the ruleset (a grant whose path is gone is skipped: nothing to reach; rights
// that mean nothing on a non-directory are dropped for it) and restricts the caller.
Status ApplyLandlock(const LandlockPlan& plan, int abi);

}  // namespace sptfs
