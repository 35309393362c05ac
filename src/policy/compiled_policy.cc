#include "policy/compiled_policy.h"

#include <algorithm>
#include <cctype>

#include "policy/path_trie.h"

namespace sptfs {

const CompiledPathRule* CompiledDomain::MatchPath(std::string_view canonical_path) const {
  if (!trie) return nullptr;
  size_t index = trie->LongestPrefix(canonical_path);
  return index == PathTrie::kNoRule ? nullptr : &path_rules[index];
}

bool CompiledDomain::Silenced(std::string_view path, Perms denied) const {
  if (denied == kPermNone || quiet_paths.empty()) return false;
  Perms quiet = kPermNone;
  for (const auto& [prefix, perms] : quiet_paths) {
    bool covers = prefix == "/" || (path.substr(0, prefix.size()) == prefix &&
                                    (path.size() == prefix.size() || path[prefix.size()] == '/'));
    if (covers) quiet |= perms;
  }
  return (denied & ~quiet) == 0;
}

bool CompiledDomain::SilencesRule(std::string_view rule) const {
  if (quiet_rules.count(rule) > 0) return true;
  // "-p OP SCOPE grant": "-p OP all" silences every scope of OP.
  if (rule.rfind("-p ", 0) != 0) return false;
  size_t scope = rule.find(' ', 3);
  if (scope == std::string_view::npos) return false;
  return quiet_rules.count(std::string(rule.substr(0, scope)) + " all grant") > 0;
}

const CompiledDomain* CompiledPolicy::FindDomain(DomainId id) const {
  auto it = std::lower_bound(domains_.begin(), domains_.end(), id,
                             [](const CompiledDomain& d, DomainId want) { return d.id < want; });
  return it != domains_.end() && it->id == id ? &*it : nullptr;
}

const CompiledDomain* CompiledPolicy::FindDomain(std::string_view name) const {
  for (const CompiledDomain& d : domains_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::optional<LabelId> CompiledPolicy::FindLabel(std::string_view name) const {
  for (const ObjectLabel& l : labels_) {
    if (l.name == name) return l.id;
  }
  return std::nullopt;
}

std::string_view CompiledPolicy::LabelName(LabelId id) const {
  for (const ObjectLabel& l : labels_) {
    if (l.id == id) return l.name;
  }
  return {};
}

namespace {

// True if `prefix` is `path` or a whole-component prefix of it.
bool CoversPath(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  return std::none_of(name.begin(), name.end(),
                      [](unsigned char c) { return std::isspace(c) || !std::isprint(c); });
}

}  // namespace

LabelId CompiledPolicy::DefaultLabelFor(std::string_view path) const {
  const DefaultLabel* best = nullptr;
  for (const DefaultLabel& d : default_labels_) {
    if (CoversPath(d.path, path) && (!best || d.path.size() > best->path.size())) best = &d;
  }
  if (!best) return kUnlabeledId;
  return FindLabel(best->label).value_or(kUnlabeledId);
}

std::shared_ptr<const CompiledPolicy> CompiledPolicy::WithLevel(DomainId id, Level level) const {
  if (!FindDomain(id)) return nullptr;
  auto next = std::make_shared<CompiledPolicy>(*this);
  next->generation_ = generation_ + 1;
  for (CompiledDomain& d : next->domains_) {
    if (d.id == id) d.level = level;
  }
  return next;
}

std::shared_ptr<const CompiledPolicy> CompiledPolicy::WithAllLevels(Level level) const {
  auto next = std::make_shared<CompiledPolicy>(*this);
  next->generation_ = generation_ + 1;
  for (CompiledDomain& d : next->domains_) d.level = level;
  return next;
}

std::shared_ptr<const CompiledPolicy> CompiledPolicy::WithNewDomain(std::string_view name) const {
  if (!ValidName(name) || FindDomain(name)) return nullptr;
  // The lowest free id, as a privileged VM's domain needs any id the policy left unused.
  DomainId id = 0;
  for (const CompiledDomain& d : domains_) {
    if (d.id != id) break;
    ++id;
  }
  if (id > kMaxId) return nullptr;
  CompiledDomain domain;
  domain.name = std::string(name);
  domain.id = id;
  domain.runtime = true;
  auto next = std::make_shared<CompiledPolicy>(*this);
  next->generation_ = generation_ + 1;
  auto pos = std::lower_bound(next->domains_.begin(), next->domains_.end(), id,
                              [](const CompiledDomain& d, DomainId want) { return d.id < want; });
  next->domains_.insert(pos, std::move(domain));
  return next;
}

std::shared_ptr<const CompiledPolicy> CompiledPolicy::WithoutDomain(DomainId id) const {
  // The default domain stays: processes nobody placed must always have one.
  if (!FindDomain(id) || id == default_domain_) return nullptr;
  auto next = std::make_shared<CompiledPolicy>(*this);
  next->generation_ = generation_ + 1;
  std::erase_if(next->domains_, [id](const CompiledDomain& d) { return d.id == id; });
  return next;
}

}  // namespace sptfs
