// Text layouts of `secpolicytools` (byte for byte as in the seed) and their JSON forms.
// Pure formatting over a snapshot; live numbers come in as arguments.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "policy/compiled_policy.h"

namespace sptfs {

struct DomainLiveState {
  int state = 3;  // ESXi prints "State: 3" for a loaded domain
  int ref_count = 2;
  int world_ref_count = 0;  // processes currently in the domain
  // Stale -r rules (index into the domain's path_rules) -> where the source path
  // resolves now. Filled by the daemon (the tree is live there); empty offline.
  std::map<size_t, std::string> stale;
};
using LiveStates = std::map<DomainId, DomainLiveState>;

// `-l`: "Valid Object Labels" / "Valid domains" listing.
// A domain with stale rules gets "   (N stale rules: spt --stale)" after its name.
std::string FormatLabelList(const CompiledPolicy& policy, const LiveStates& live = {});
// `-d [N]`: "Policy set in the kernel" block for one domain or all; rules grouped
// -c, -d, -p, -r (then -o and syscall classes), blank line between groups.
// `compiled_paths`: print -r rules with their compiled (canonical) path, as ESXi does.
// A stale rule (live) is followed by a line "  # stale: SOURCE now resolves to NOW (spt -p)".
std::string FormatPolicy(const CompiledPolicy& policy, std::optional<DomainId> only,
                         const LiveStates& live, bool compiled_paths = true);
// `-k`: the keyword table.
std::string FormatKeywords();
// `esxcli system secpolicy domain list` table.
std::string FormatDomainTable(const CompiledPolicy& policy);

// JSON forms (stable keys; see docs/spt.md).
std::string LabelListJson(const CompiledPolicy& policy, const LiveStates& live = {});
// `spt --stale`: one block per stale rule ("no stale rules" when none), and its JSON.
std::string FormatStaleRules(const CompiledPolicy& policy, const LiveStates& live);
std::string StaleRulesJson(const CompiledPolicy& policy, const LiveStates& live);
// `spt-domain list --json`: [{"name":..,"id":..,"level":..,"unconfined":..}, ...] in id order.
std::string DomainTableJson(const CompiledPolicy& policy);
std::string PolicyJson(const CompiledPolicy& policy, std::optional<DomainId> only,
                       const LiveStates& live);
// `text` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view text);

}  // namespace sptfs
