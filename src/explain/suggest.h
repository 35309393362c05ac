// `spt --suggest`: from recorded denials to policy, in the spirit of audit2allow
// (docs/productlocker.md "spt --suggest"). Reads audit log text (docs/audit.md), keeps
// the records that were denied or warned, and proposes per domain the least privilege
// in the seed's syntax that would have allowed them:
//   - file access (type=SPT_AVC): one `-r PATH PERMS` per denied path. PERMS is what was
//     asked there plus what the rule deciding there today grants (longest prefix wins,
//     so a longer rule without those perms would take them away). A label adds
//     `-o LABEL PERMS` (the label step intersects); an access the -r rule already grants
//     (limited by the label) gets only the -o rule.
//   - directory listings (op=opendir) are their own case: `-r DIR r` also opens every
//     file below DIR, so they never absorb other rules and always say so.
//   - names that look generated (mkstemp-style, e.g. /tmp/ccJUXiWL.s) give their
//     directory, saying so; `glob` does that for every path.
//   - a hard-link denial of the link subset rule gets an explanation, not a rule.
//   - socket and syscall denials (type=SPT_SANDBOX): the rules named by missing=; an
//     executable mapping (op="mmap", with path=) is a file access (x) instead.
// Every rule wider than what was denied carries a "wider" note. A denial that the same
// process went on after (a later record of its pid) is "survived": it is also offered
// as a `dontaudit` rule (docs/policy-language.md), or instead of the grant with
// `prefer_dontaudit`. Pure text in, text out (the policy, if any, is already compiled).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/compiled_policy.h"
#include "policy/perms.h"
#include "util/status.h"

namespace sptfs {

struct SuggestOptions {
  bool glob = false;              // one rule per directory of the denied paths
  bool prefer_dontaudit = false;  // survived denials: the dontaudit rule instead of a grant
  std::string source = "-";       // name of the log, for "source:line: ..." warnings
  // The policy the suggestions extend (compiled against the tree): today's deciding rule
  // of each suggested path comes from it. nullptr: from each record's rule= field.
  const CompiledPolicy* policy = nullptr;
};

struct SuggestedRule {
  std::string text;       // e.g. "-r /vmfs/volumes/x/productLocker/vmtools/windows.iso r"
  std::string why;        // e.g. "open r (2 denials)"
  std::string wider;      // "" or how the rule grants more than what was denied
  std::string dontaudit;  // "" or the rule that silences these denials instead (survived)
};

struct DomainSuggestion {
  std::string domain;     // name as recorded
  std::string domain_id;  // as recorded ("" if absent)
  int denials = 0;
  std::vector<SuggestedRule> rules;  // -r by path, listings, -o by label, -c, -p, classes
  std::vector<std::string> notes;    // denials no rule should fix (link subset, no rule can)
};

// Lines that are not denial records (policy events, other text) are skipped; a record
// that lacks its path, domain, access or missing= is skipped with a warning
// "source:line: what is missing". Fails only if nothing could be read at all.
Status SuggestRules(std::string_view audit_text, const SuggestOptions& options,
                    std::vector<DomainSuggestion>* out, std::vector<std::string>* warnings);

// The text `spt --suggest` prints: per domain a "# NAME (ID): N denials" line, its
// rules (each preceded by "# why", "# wider than denied: ..." and "# or, silenced: ..."
// comment lines when `annotate`), its notes as comments, a blank line between domains.
std::string FormatSuggestions(const std::vector<DomainSuggestion>& suggestions,
                              bool annotate = true);

// `spt --check`: one "FILE:LINE: ..." warning per -r rule that grants less than the
// rule it shadows (the one deciding there without it), unless its perms are empty (a
// carve-out, as in the seed) or its path is listed in the domain's `narrows`.
std::vector<std::string> NarrowingWarnings(const CompiledPolicy& policy);

// True if the last component of `path` looks generated (mkstemp-style random letters
// and digits at the end of its stem, e.g. "ccJUXiWL.s", "tmpa1B2c3"). A heuristic.
bool LooksGenerated(std::string_view path);

}  // namespace sptfs
