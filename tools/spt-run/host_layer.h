// spt-run's Landlock layer (docs/spt-run.md, "Host paths: the Landlock layer"): before
// the world is made, which domains it can reach and what they say about host paths
// (asked of the daemon); inside the world, after privileges are dropped, the ruleset.
#pragma once

#include <string>
#include <vector>

#include "options.h"
#include "sandbox/landlock_rules.h"
#include "util/status.h"

namespace sptfs {

struct HostLayer {
  bool apply = false;  // false: no ruleset (--no-landlock, or --root on a kernel without it)
  int abi = 0;
  std::string mount;                      // as the world sees it: "/" with --root
  std::vector<LandlockDomain> reachable;  // the start domain first... in id order
};

// Decides and fetches the layer. Fails (spt-run must not start) without --root on a
// kernel without Landlock unless --no-landlock; `*notice` is then the one line to print
// (host paths not confined), or "" when there is nothing to say.
Status PrepareHostLayer(const std::string& socket, const RunOptions& opts, HostLayer* out,
                        std::string* notice);

// In the world's first process, after DropPrivileges (no_new_privs) and EnterTree.
Status ApplyHostLayer(const HostLayer& layer);

}  // namespace sptfs
