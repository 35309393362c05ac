// `spt --suggest`: from recorded denials to policy, in the spirit of audit2allow. Reads
// audit log text (docs/audit.md), keeps the access records that were denied or warned,
// and proposes per domain the minimal rules in the seed's syntax that would have
// allowed them: one `-r PATH PERMS` per denied path (perms: the union requested there),
// plus `-o LABEL PERMS` when the object carried a label (the label step intersects).
// Never broader than the denied paths, unless `glob` widens each to its directory.
// Pure text in, text out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/perms.h"
#include "util/status.h"

namespace sptfs {

struct SuggestOptions {
  bool glob = false;         // one rule per directory of the denied paths
  std::string source = "-";  // name of the log, for "source:line: ..." warnings
};

struct SuggestedRule {
  std::string text;  // e.g. "-r /vmfs/volumes/x/productLocker/vmtools/windows.iso r"
  std::string why;   // e.g. "open r (2 denials)"
};

struct DomainSuggestion {
  std::string domain;     // name as recorded
  std::string domain_id;  // as recorded ("" if absent)
  int denials = 0;
  std::vector<SuggestedRule> rules;  // -r rules by path, then -o rules by label
};

// Lines that are not access records (type=SPT_AVC; policy events, other text)
// are skipped; an access record that lacks its path, domain or access is skipped with
// a warning "source:line: what is missing". Fails only if nothing could be read at all
// (every access record malformed).
Status SuggestRules(std::string_view audit_text, const SuggestOptions& options,
                    std::vector<DomainSuggestion>* out, std::vector<std::string>* warnings);

// The text `spt --suggest` prints: per domain a "# NAME (ID): N denials" line, its
// rules (each preceded by a "# why" comment line when `annotate`), a blank line
// between domains.
std::string FormatSuggestions(const std::vector<DomainSuggestion>& suggestions,
                              bool annotate = true);

}  // namespace sptfs
