// The decision: may domain D do access A on the object at canonical path P with label L?
// Pure: reads only the compiled snapshot. Rules (DESIGN.md "Decision"):
//   1. D unconfined or disabled: allow, no record.
//   2. grant = perms of the longest -r rule covering P (none: nothing).
//   3. L is not unlabeled: grant &= perms of D's -o L rule (-d L ... counts as x).
//   4. A within grant: allow. Else enforcing: deny (EPERM); warning: allow and record.
// An unknown domain id is denied and recorded.
#pragma once

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

}  // namespace sptfs
