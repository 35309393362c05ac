// What loading a policy in place of the running one would change (`spt -p --dry-run`).
// Pure: both snapshots come in compiled (the new one against the live tree).
#pragma once

#include <string>

#include "policy/compiled_policy.h"

namespace sptfs {

// Per domain, in id order: "-r SRC PERMS: OLD → NEW" for a -r rule whose compiled path
// moves, "+ RULE" / "- RULE" for rules added / removed (matched by their text), "level:
// A → B", and whole domains added or removed; then label changes. Sets *changed; the
// text is "no changes\n" when nothing changes.
std::string FormatPolicyDiff(const CompiledPolicy& current, const CompiledPolicy& next,
                             bool* changed);

}  // namespace sptfs
