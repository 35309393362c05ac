#include "policy/stale.h"

#include <algorithm>

namespace sptfs {

std::string ParentDirectory(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::vector<StaleFinding> ResolveStale(const CompiledPolicy& policy, const TreeView& tree,
                                       std::set<std::string>* links_now) {
  std::vector<StaleFinding> stale;
  for (const CompiledDomain& d : policy.domains()) {
    for (size_t i = 0; i < d.path_rules.size(); ++i) {
      const CompiledPathRule& rule = d.path_rules[i];
      Resolution now;
      std::string where;
      if (!ResolvePath(tree, rule.source.path, &now).ok()) {
        where = "(symlink loop)";
      } else {
        if (links_now) links_now->insert(now.links.begin(), now.links.end());
        if (now.canonical == rule.canonical) continue;
        where = now.canonical;
      }
      stale.push_back({d.id, d.name, i, rule.source, rule.canonical, where});
    }
  }
  return stale;
}

std::set<std::string> LinkDirectories(const CompiledPolicy& policy) {
  std::set<std::string> dirs;
  for (const CompiledDomain& d : policy.domains()) {
    for (const CompiledPathRule& rule : d.path_rules) {
      for (const std::string& link : rule.links) dirs.insert(ParentDirectory(link));
    }
  }
  return dirs;
}

void StaleTracker::Reset(std::shared_ptr<const CompiledPolicy> policy) {
  std::map<std::pair<DomainId, size_t>, std::string> kept;
  for (const auto& [key, now] : reported_) {
    const CompiledDomain* before = policy_ ? policy_->FindDomain(key.first) : nullptr;
    const CompiledDomain* after = policy ? policy->FindDomain(key.first) : nullptr;
    if (!before || !after || key.second >= before->path_rules.size() ||
        key.second >= after->path_rules.size()) {
      continue;
    }
    const CompiledPathRule& a = before->path_rules[key.second];
    const CompiledPathRule& b = after->path_rules[key.second];
    if (a.canonical == b.canonical && a.source.ToString() == b.source.ToString() &&
        a.source.where.ToString() == b.source.where.ToString()) {
      kept[key] = now;
    }
  }
  policy_ = std::move(policy);
  reported_ = std::move(kept);
}

std::vector<StaleChange> StaleTracker::Recheck(const TreeView& tree) {
  std::vector<StaleChange> changes;
  if (!policy_) return changes;
  std::set<std::string> links;
  std::vector<StaleFinding> stale = ResolveStale(*policy_, tree, &links);
  links_now_ = std::move(links);
  std::map<std::pair<DomainId, size_t>, std::string> now;
  for (const StaleFinding& f : stale) {
    auto key = std::make_pair(f.domain, f.index);
    now[key] = f.now;
    auto old = reported_.find(key);
    if (old != reported_.end() && old->second == f.now) continue;  // said already
    std::string text = f.source.ToString();
    auto same = [&](const StaleChange& c) {
      return c.rule == text && c.compiled == f.compiled && c.now == f.now;
    };
    auto it = std::find_if(changes.begin(), changes.end(), same);
    if (it == changes.end()) {
      changes.push_back({text, f.compiled, f.now, {}, {}});
      it = changes.end() - 1;
    }
    it->where.push_back(f.source.where.ToString());
    it->domains.push_back(f.domain_name + "(" + std::to_string(f.domain) + ")");
  }
  reported_ = std::move(now);  // fresh rules drop out: a later move reports again
  return changes;
}

std::set<std::string> StaleTracker::WatchedLinks() const {
  std::set<std::string> links = links_now_;
  if (!policy_) return links;
  for (const CompiledDomain& d : policy_->domains()) {
    for (const CompiledPathRule& rule : d.path_rules)
      links.insert(rule.links.begin(), rule.links.end());
  }
  return links;
}

std::set<std::string> StaleTracker::WatchDirectories() const {
  std::set<std::string> dirs;
  for (const std::string& link : WatchedLinks()) dirs.insert(ParentDirectory(link));
  return dirs;
}

}  // namespace sptfs
