// The decision: may domain D do access A on the object at canonical path P with label L?
// Pure: reads only the compiled snapshot. Rules (docs/policy-language.md "The decision"):
//   1. D unconfined or disabled: allow, no record.
//   2. grant = perms of the longest -r rule covering P (none: nothing).
//   3. L is not unlabeled: grant &= perms of D's -o L rule (-d L ... counts as x).
//   4. A within grant: allow. Else enforcing: deny (EPERM); warning: allow and record,
//      unless a -r PATH PERMS dontaudit rule of D silences it (record = false).
// An unknown domain id is denied and recorded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/compiled_policy.h"

namespace sptfs {

enum class Verdict { kAllow, kDeny };

struct Decision {
  Verdict verdict = Verdict::kDeny;
  bool record = false;                     // write an audit line (denial or access warning)
  bool warning = false;                    // allowed only because the domain's level is warning
  const CompiledDomain* domain = nullptr;  // nullptr: unknown domain
  const CompiledPathRule* path_rule = nullptr;  // the -r rule that decided, if any
  bool label_limited = false;                   // step 3 removed some of the requested access
  Perms granted = kPermNone;                    // what the rules grant on this object
  std::string_view reason;  // static text, e.g. "no rule", "unconfined", "label"

  bool allowed() const { return verdict == Verdict::kAllow; }
};

Decision Decide(const CompiledPolicy& policy, DomainId domain, std::string_view canonical_path,
                LabelId label, Perms requested);

// Where moving the subtree at canonical `from` to `to` would widen access: a path below
// (or at) `from`, given relative to it ("" = `from` itself, else "a/b"), whose -r grant
// in `domain` would be larger at the same place under `to`, and what it would gain.
struct SubtreeWidening {
  std::string below;
  Perms wider = kPermNone;
};
// The -r grant is constant between rule paths, so comparing at `from`/`to` and at every
// rule path below either of them (taken relative) covers every path of the subtree,
// however many files it holds. Labels need no look: an -o rule intersects the same way
// at both places, so a subtree whose -r grants do not widen cannot widen for any label.
// nullopt: nothing below would gain. Cost: one pass over the domain's -r rules.
std::optional<SubtreeWidening> FindSubtreeWidening(const CompiledDomain& domain,
                                                   std::string_view from, std::string_view to);

}  // namespace sptfs
