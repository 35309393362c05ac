// `landlock domains` (docs/control-protocol.md): every domain of the current policy with
// the rules spt-run's Landlock layer reads (-r as written, -d, -p), in the text that
// src/sandbox/landlock_rules.h parses. Anyone may ask, like `spt -d`.
#pragma once

#include <string>
#include <vector>

#include "control/protocol.h"
#include "policy/compiled_policy.h"

namespace sptfs {

Reply LandlockCommand(const CompiledPolicy& policy, const std::vector<std::string>& args);

}  // namespace sptfs
