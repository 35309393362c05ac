// `spt --why`: explains one access decision in words. Given a domain, a path as the
// caller wrote it, the object's label and the access, it resolves the path through the
// tree, asks Decide() (decision.h) and reports the verdict, the rule that decided, the
// object label and the canonical path the check used. It also looks for stale rules of
// the domain (as compiler.h FindStaleRules: a rule whose source path now resolves
// elsewhere than its compiled path, the productLocker situation) that matter to this
// path, and says what the answer would be after `spt -p` recompiled them. Reads only
// its arguments (the tree through TreeView).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/compiled_policy.h"
#include "policy/compiler.h"
#include "policy/decision.h"
#include "policy/tree.h"
#include "util/status.h"

namespace sptfs {

// A stale rule of the asked domain whose old or new path covers the asked path.
struct StaleNote {
  const CompiledPathRule* rule = nullptr;
  std::string now_resolves_to;
  bool covers_after_reload = false;  // the new path covers the asked path
  bool covers_now = false;           // the compiled (old) path covers it
};

struct Explanation {
  std::string path;       // as asked
  std::string canonical;  // after symlinks: what the check used
  bool path_complete = true;
  const CompiledDomain* domain = nullptr;
  DomainId domain_id = 0;
  LabelId label = kUnlabeledId;
  std::string label_name;
  Perms requested = kPermNone;
  Decision decision;
  std::vector<StaleNote> stale;
  // Set when a stale rule covers the path: would `spt -p` allow the access?
  std::optional<bool> allowed_after_reload;
};

// Fills *out. Fails (Invalid) only if `path` is not absolute or its resolution loops.
// An unknown domain id is not an error: the explanation says it is denied.
Status Explain(const CompiledPolicy& policy, const TreeView& tree, DomainId domain,
               std::string_view path, LabelId label, Perms requested, Explanation* out);

// The text `spt --why` prints (several lines, each ending in '\n'); first word "allow",
// "deny" or "warn" (allowed only because the domain is at level warning).
std::string FormatExplanation(const Explanation& e);

// Explain() then FormatExplanation().
Status ExplainAccess(const CompiledPolicy& policy, const TreeView& tree, DomainId domain,
                     std::string_view path, LabelId label, Perms requested, std::string* text);

// One line for an audit record of a denial at canonical path `canonical`, naming the
// stale rule(s) that `spt -p` would move and whether the access would then be allowed;
// "" when no stale rule of the domain covers the path. Resolves every -r rule of the
// domain (tens of lookups in the tree): meant for denials only, not for every request.
std::string StaleHint(const CompiledPolicy& policy, const TreeView& tree, DomainId domain,
                      std::string_view canonical, LabelId label, Perms requested);

// The same from stale rules found earlier (FindStaleRules(domain, tree), compiler.h), so a
// caller can keep them for a while: reads only its arguments.
std::string StaleHintFrom(const CompiledDomain& domain, const std::vector<StaleRule>& stale,
                          std::string_view canonical, LabelId label, Perms requested);

}  // namespace sptfs
