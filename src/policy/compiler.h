// Compiles a loaded policy set against a tree: resolves every -r path through the
// tree's symlinks (tree.h), keeps source and canonical path of each rule, and builds the
// immutable lookup structures of CompiledPolicy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policy/compiled_policy.h"
#include "policy/model.h"
#include "policy/tree.h"
#include "util/status.h"

namespace sptfs {

// `warnings` gets one "Partially resolved path: P" per rule path that does not fully
// exist. Fails (Invalid, "file:line: ...") only on a symlink loop in a rule path.
Status Compile(const PolicySet& set, const TreeView& tree, uint64_t generation,
               std::shared_ptr<const CompiledPolicy>* out, std::vector<std::string>* warnings);

// A rule whose source path resolves, in `tree` now, to another path than the one it
// was compiled to: the productLocker situation. `spt -p` would move it.
struct StaleRule {
  DomainId domain = 0;
  const CompiledPathRule* rule = nullptr;
  std::string now_resolves_to;
};
std::vector<StaleRule> FindStaleRules(const CompiledPolicy& policy, const TreeView& tree);
// The same for one domain only (a denial's audit hint must not resolve every domain's
// rules). A rule whose source path is now a symlink loop counts as moved, to nowhere.
std::vector<StaleRule> FindStaleRules(const CompiledDomain& domain, const TreeView& tree);

}  // namespace sptfs
