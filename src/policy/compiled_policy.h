// The compiled policy: an immutable snapshot that answers "may D do A on O" (see
// decision.h). Built by Compile() (compiler.h); never changed after that. Changes at run
// time (levels, runtime domains) make a new snapshot from an old one, so a request
// always sees one consistent policy. Share it as std::shared_ptr<const CompiledPolicy>.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"

namespace sptfs {

// A -r rule after resolution through the tree's symlinks.
struct CompiledPathRule {
  Rule source;                 // as written (source.path is the source path)
  std::string canonical;       // the path the rule was compiled to
  bool fully_resolved = true;  // false: "Partially resolved path" at load
  // The symlinks source.path went through when compiled (Resolution::links): a change to
  // any of them can make the rule stale. The daemon watches them (docs/productlocker.md).
  std::vector<std::string> links;
};

class PathTrie;  // component-keyed prefix tree, private to the policy library

struct CompiledDomain {
  std::string name;
  DomainId id = 0;
  Level level = Level::kEnforcing;
  bool unconfined = false;
  bool runtime = false;              // made by `spt -N`, not from the policy set
  std::vector<Rule> rules;           // every rule as written, in file order (for display)
  std::vector<std::string> narrows;  // DomainSpec::narrows
  std::vector<CompiledPathRule> path_rules;
  std::map<LabelId, Perms> object_perms;            // -o rules (and x from -d rules)
  std::map<LabelId, DomainId> transitions;          // -d LABEL DOMAIN file_exec grant
  std::set<std::string, std::less<>> capabilities;  // -c NAME grant
  std::shared_ptr<const PathTrie> trie;             // over path_rules, by canonical path
  // dontaudit rules (docs/policy-language.md): they grant nothing, they only keep
  // denials out of the audit log.
  std::vector<std::pair<std::string, Perms>> quiet_paths;  // -r PATH PERMS dontaudit, canonical
  std::set<std::string, std::less<>> quiet_rules;  // "-c NAME grant", "-p OP SCOPE grant", ...

  bool HasCapability(std::string_view name) const { return capabilities.count(name) > 0; }
  // True if the denial of `denied` at `canonical_path` is not to be recorded: every
  // denied perm is named by a -r dontaudit rule covering the path (whole components).
  bool Silenced(std::string_view canonical_path, Perms denied) const;
  // True if a denial for want of `grant_rule` ("-c NAME grant", "-p OP SCOPE grant",
  // "NAMESys grant") is not to be recorded. "-p OP all dontaudit" covers every scope.
  bool SilencesRule(std::string_view grant_rule) const;
  // Longest -r rule covering `canonical_path` (whole components), or nullptr.
  const CompiledPathRule* MatchPath(std::string_view canonical_path) const;
};

class CompiledPolicy {
 public:
  // Grows by one for every snapshot made (load, reload, level change, new domain).
  uint64_t generation() const { return generation_; }
  const std::string& source_dir() const { return source_dir_; }

  const std::vector<CompiledDomain>& domains() const { return domains_; }  // id order
  const CompiledDomain* FindDomain(DomainId id) const;
  const CompiledDomain* FindDomain(std::string_view name) const;
  DomainId default_domain() const { return default_domain_; }
  OnStale on_stale() const { return on_stale_; }

  const std::vector<ObjectLabel>& labels() const { return labels_; }  // name order
  std::optional<LabelId> FindLabel(std::string_view name) const;
  // Name of a label id, or "" if the policy does not define it.
  std::string_view LabelName(LabelId id) const;
  // Label for a new file at canonical `path` (longest default-label prefix), else unlabeled.
  LabelId DefaultLabelFor(std::string_view path) const;
  const std::vector<DefaultLabel>& default_labels() const { return default_labels_; }

  // Derived snapshots with generation + 1. Return nullptr if the domain is unknown
  // (or, for WithNewDomain, if the name exists or no id is free).
  std::shared_ptr<const CompiledPolicy> WithLevel(DomainId id, Level level) const;
  std::shared_ptr<const CompiledPolicy> WithAllLevels(Level level) const;
  std::shared_ptr<const CompiledPolicy> WithNewDomain(std::string_view name) const;
  std::shared_ptr<const CompiledPolicy> WithoutDomain(DomainId id) const;

 private:
  friend class PolicyCompiler;  // compiler.cc fills these in
  uint64_t generation_ = 0;
  std::string source_dir_;
  std::vector<CompiledDomain> domains_;
  std::vector<ObjectLabel> labels_;
  std::vector<DefaultLabel> default_labels_;  // paths canonical
  DomainId default_domain_ = 0;
  OnStale on_stale_ = OnStale::kWarn;
};

}  // namespace sptfs
