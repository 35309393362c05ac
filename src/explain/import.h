// `spt --import`: turns the text of a host's `secpolicytools -d [N]` output (the
// "Policy set in the kernel" listing, as in the seed) into policy-set domain files
// (docs/policy-language.md), so a support engineer can reproduce a customer's policy.
// Header lines ("Domain Name: X Domain ID :N Enforcement Level: L"), kernel state
// ("State: ... RefCount: ..."), blank lines and a pasted shell prompt are understood;
// every other line must be a rule in the seed's syntax (rule_parser.h). Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"
#include "util/status.h"

namespace sptfs {

struct ImportedDomain {
  std::string name;
  DomainId id = 0;
  Level level = Level::kEnforcing;
  std::vector<Rule> rules;  // in listing order; rule.where is source:line
  int line = 0;             // of the header
};

// Errors are "source:line: what is wrong (expected ...)"; on error *out is untouched.
// Fails on: no domain header at all, a rule before the first header, a malformed header,
// an unknown level, an id above kMaxId, a domain listed twice, a rule that does not parse.
Status ParseSecpolicyDump(std::string_view text, const std::string& source,
                          std::vector<ImportedDomain>* out);

// The domain file for one imported domain (TOML, docs/policy-language.md), with a
// comment naming where it came from. -r paths are the host's compiled paths.
std::string DomainToml(const ImportedDomain& domain, std::string_view source);

struct ImportedFile {
  std::string name;  // "<domain>.toml"
  std::string text;
};

// ParseSecpolicyDump then DomainToml for each domain.
Status ImportSecpolicyDump(std::string_view text, const std::string& source,
                           std::vector<ImportedFile>* out);

}  // namespace sptfs
