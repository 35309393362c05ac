// `spt --why --host`: explains one access to a path as a world started without `--root`
// sees it (docs/spt-run.md, "Host paths: the Landlock layer"). Under the mount, sptfs
// decides (the caller explains the tree path, with labels); anywhere else, the Landlock
// ruleset spt-run would apply decides, from the -r rules of the domain and of every domain
// it reaches by -d transitions, read as host paths. Pure: the host is seen through a
// HostView, the kernel's Landlock ABI is an argument.
#pragma once

#include <string>
#include <string_view>

#include "policy/compiled_policy.h"
#include "sandbox/landlock_rules.h"
#include "util/status.h"

namespace sptfs {

// The tree path of `host_path` when it is the mount `mount` or below it (both as `view`
// resolves them), e.g. "/data/x" for "/mnt/sptfs/data/x"; false when it is outside (or
// `mount` is empty: no mount known, offline).
bool TreePathUnderMount(const std::string& host_path, const std::string& mount, HostView* view,
                        std::string* tree_path);

// The text for a host path outside the mount (first word "allow" or "deny", then lines
// of "  key: value" as FormatExplanation): the layer and the rule(s) that decide, the
// domains whose rules make the ruleset, and what is granted. `abi` 0: no Landlock, so
// nothing confines the path (spt-run then needs --root or --no-landlock).
Status ExplainHostAccess(const CompiledPolicy& policy, DomainId domain, const std::string& path,
                         Perms requested, int abi, const std::string& mount, HostView* view,
                         std::string* text);

}  // namespace sptfs
