// The first process of a confined world (pid 1 of its PID namespace). It waits until
// the daemon has placed it, makes the world (sandbox.h), starts the program as its
// child, reaps orphans, passes on the signals sent to spt-run, and exits with the
// program's status. Its exit ends the world: the kernel kills whatever is left in it.
#pragma once

#include "host_layer.h"
#include "options.h"
#include "sandbox/notify_filter.h"

namespace sptfs {

struct WorldPlan {
  RunOptions options;
  bool switch_user = false;
  RunIdentity identity;
  // A SOCK_SEQPACKET channel to spt-run: spt-run sends 'g' once the daemon has placed
  // this process, then 's' once it supervises the sandbox filter's listener; the
  // program's process reports a refused exec on it (exec_report.h).
  int go_fd = -1;
  FilterPlan filter;  // which calls the supervisor decides (sandbox/notify_filter.h)
  std::vector<int> kept_capabilities;  // KeptCapabilities (sandbox.h)
  // The Landlock ruleset over host paths (host_layer.h).
  HostLayer host_layer;
};

// Signals spt-run and the world's first process pass on to the program.
const std::vector<int>& ForwardedSignals();

[[noreturn]] void RunWorldInit(const WorldPlan& plan);

}  // namespace sptfs
