// The seccomp filter a confined world gets (docs/syscall-classes.md): the calls the
// sandbox must decide are answered by a supervisor through seccomp user notification,
// so the decision is made per call with the caller's domain at that moment (exec
// transitions included). The filter itself never changes after it is loaded.
//
//   FilterPlan plan = PlanFilter(reachable);   // from `sandbox domains DOMAIN`
//   int listener;
//   Status s = LoadNotifyFilter(plan, &listener);  // in the world's first process
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/sandbox_rules.h"
#include "util/status.h"

namespace sptfs {

struct FilterPlan {
  // Syscall classes whose calls are sent to the supervisor: those some domain the world
  // can be in restricts (has NAMESys rules but not this one). genericSys here means
  // every call of no other class is sent.
  std::set<std::string, std::less<>> classes;
  // The socket calls whose address or family the -c/-p rules decide (socket,
  // socketpair, bind, connect, listen, sendmsg, sendmmsg, sendto with an address) are
  // sent when some domain the world can be in is confined; an unconfined world's
  // filter sends nothing.
  bool sockets = true;
  // mmap of a file with PROT_EXEC, and mprotect/pkey_mprotect adding PROT_EXEC, are
  // sent too (an `x` access of the file, decided by the daemon): set with `sockets`.
  bool exec_maps = true;
};

// Which calls need the supervisor, from the domains a world can be in: its own and
// those reachable from it (`sandbox domains DOMAIN`), never the whole policy: a domain
// the world cannot enter must not slow it. Unconfined domains never restrict.
FilterPlan PlanFilter(const std::vector<SandboxRules>& domains);

// The classes as "genericSys,killSys" (sorted, "-" for none) and back (ParsePlan sets
// `sockets`); for messages and tests.
std::string FormatPlan(const FilterPlan& plan);
Status ParsePlan(std::string_view text, FilterPlan* out);

// Loads the filter into the calling thread (needs no_new_privs) and returns its
// notification listener (close-on-exec). clone3 fails with ENOSYS when forkExecSys is
// decided (its flags are in memory, where a filter cannot look; libc falls back to clone);
// io_uring_setup/enter/register always fail with EPERM (io_uring bypasses the filter).
// With `exec_maps`, mmap of a file with PROT_EXEC and mprotect/pkey_mprotect asking for
// PROT_EXEC are notified too (the supervisor decides them as `x` of the file).
Status LoadNotifyFilter(const FilterPlan& plan, int* listener);

}  // namespace sptfs
