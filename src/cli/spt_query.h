// Answers the read-only `spt` commands (-h -l -d -D -O -k --graph, and their --json forms) over
// one policy snapshot. Pure: the offline tool runs it on a snapshot compiled from
// --policy, the daemon on its live snapshot, with the same output.
#pragma once

#include <string>

#include "cli/spt_options.h"
#include "policy/compiled_policy.h"
#include "policy/display.h"

namespace sptfs {

// Appends the command's output to *out and messages ("spt: ...\n") to *err. Returns
// the exit code: 0 ok, 1 error (unknown domain or label, not a query), 2 usage.
int RunSptQuery(const SptOptions& options, const CompiledPolicy& policy, const LiveStates& live,
                std::string* out, std::string* err);

}  // namespace sptfs
