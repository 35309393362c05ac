#include "policy/compiler.h"

#include <algorithm>
#include <set>

#include "policy/path_trie.h"

namespace sptfs {

// Fills CompiledPolicy's private members (it is CompiledPolicy's friend).
class PolicyCompiler {
 public:
  PolicyCompiler(const PolicySet& set, const TreeView& tree, std::vector<std::string>* warnings)
      : set_(set), tree_(tree), warnings_(warnings) {}

  Status Build(uint64_t generation, std::shared_ptr<CompiledPolicy>* out) {
    auto policy = std::make_shared<CompiledPolicy>();
    policy->generation_ = generation;
    policy->source_dir_ = set_.dir;
    policy->on_stale_ = set_.on_stale;
    policy->labels_ = set_.labels;
    std::sort(policy->labels_.begin(), policy->labels_.end(),
              [](const ObjectLabel& a, const ObjectLabel& b) { return a.name < b.name; });
    if (!std::any_of(policy->labels_.begin(), policy->labels_.end(),
                     [](const ObjectLabel& l) { return l.id == kUnlabeledId; })) {
      policy->labels_.push_back({std::string(kUnlabeledName), kUnlabeledId, {}});
      std::sort(policy->labels_.begin(), policy->labels_.end(),
                [](const ObjectLabel& a, const ObjectLabel& b) { return a.name < b.name; });
    }
    labels_ = &policy->labels_;
    for (const DomainSpec& spec : set_.domains) {
      CompiledDomain domain;
      if (Status s = BuildDomain(spec, &domain); !s.ok()) return s;
      policy->domains_.push_back(std::move(domain));
    }
    std::sort(policy->domains_.begin(), policy->domains_.end(),
              [](const CompiledDomain& a, const CompiledDomain& b) { return a.id < b.id; });
    const CompiledDomain* def = policy->FindDomain(set_.default_domain);
    if (!def) {
      return Status::Invalid(set_.dir + ": default domain '" + set_.default_domain +
                             "' is not defined (expected the name of a domain)");
    }
    policy->default_domain_ = def->id;
    for (DefaultLabel label : set_.default_labels) {
      Resolution r;
      if (Status s = Resolve(label.path, label.where, &r); !s.ok()) return s;
      label.path = r.canonical;
      policy->default_labels_.push_back(std::move(label));
    }
    *out = std::move(policy);
    return Status::Ok();
  }

 private:
  Status Resolve(const std::string& path, const SourceLocation& where, Resolution* r) {
    Status s = ResolvePath(tree_, path, r);
    if (!s.ok()) return Status::Invalid(where.ToString() + ": " + s.message());
    if (!r->complete && warned_.insert(path).second && warnings_) {
      warnings_->push_back("Partially resolved path: " + path);
    }
    return Status::Ok();
  }

  Status LabelId(const Rule& rule, sptfs::LabelId* id) {
    for (const ObjectLabel& l : *labels_) {
      if (l.name == rule.label) {
        *id = l.id;
        return Status::Ok();
      }
    }
    return Status::Invalid(rule.where.ToString() + ": unknown object label '" + rule.label +
                           "' (expected a label defined in policy.toml)");
  }

  Status DomainId(const Rule& rule, sptfs::DomainId* id) {
    for (const DomainSpec& d : set_.domains) {
      if (d.name == rule.target_domain) {
        *id = d.id;
        return Status::Ok();
      }
    }
    return Status::Invalid(rule.where.ToString() + ": unknown domain '" + rule.target_domain +
                           "' (expected a domain defined in domains/)");
  }

  Status AddRule(const Rule& rule, CompiledDomain* d) {
    sptfs::LabelId label = 0;
    switch (rule.kind) {
      case RuleKind::kPath: {
        Resolution r;
        if (Status s = Resolve(rule.path, rule.where, &r); !s.ok()) return s;
        d->path_rules.push_back({rule, r.canonical, r.complete, std::move(r.links)});
        return Status::Ok();
      }
      case RuleKind::kObject:
        if (Status s = LabelId(rule, &label); !s.ok()) return s;
        d->object_perms[label] |= rule.perms;
        return Status::Ok();
      case RuleKind::kTransition: {
        sptfs::DomainId target = 0;
        if (Status s = LabelId(rule, &label); !s.ok()) return s;
        if (Status s = DomainId(rule, &target); !s.ok()) return s;
        d->transitions[label] = target;
        d->object_perms[label] |= kPermExec;  // a transition implies exec on the label
        return Status::Ok();
      }
      case RuleKind::kCapability:
        d->capabilities.insert(rule.name);
        return Status::Ok();
      case RuleKind::kNetwork:
      case RuleKind::kSyscall:
        return Status::Ok();  // kept for display; FUSE cannot mediate them
      case RuleKind::kDontaudit:
        return AddQuiet(rule, d);
    }
    return Status::Ok();
  }

  // A dontaudit rule grants nothing: it only names denials that leave no record.
  Status AddQuiet(const Rule& rule, CompiledDomain* d) {
    if (rule.silences == RuleKind::kPath) {
      Resolution r;
      if (Status s = Resolve(rule.path, rule.where, &r); !s.ok()) return s;
      d->quiet_paths.emplace_back(r.canonical, rule.perms);
      return Status::Ok();
    }
    Rule granted = rule;
    granted.kind = rule.silences;
    d->quiet_rules.insert(granted.ToString());
    return Status::Ok();
  }

  Status BuildDomain(const DomainSpec& spec, CompiledDomain* d) {
    d->name = spec.name;
    d->id = spec.id;
    d->level = spec.level;
    d->unconfined = spec.unconfined;
    d->rules = spec.rules;
    d->narrows = spec.narrows;
    for (const Rule& rule : spec.rules) {
      if (Status s = AddRule(rule, d); !s.ok()) return s;
    }
    auto trie = std::make_shared<PathTrie>();
    // Two rules on one canonical path: the later in file order wins.
    for (size_t i = 0; i < d->path_rules.size(); ++i) trie->Insert(d->path_rules[i].canonical, i);
    d->trie = std::move(trie);
    return Status::Ok();
  }

  const PolicySet& set_;
  const TreeView& tree_;
  std::vector<std::string>* warnings_;
  const std::vector<ObjectLabel>* labels_ = nullptr;
  std::set<std::string> warned_;
};

Status Compile(const PolicySet& set, const TreeView& tree, uint64_t generation,
               std::shared_ptr<const CompiledPolicy>* out, std::vector<std::string>* warnings) {
  std::vector<std::string> local;
  std::shared_ptr<CompiledPolicy> policy;
  Status s = PolicyCompiler(set, tree, &local).Build(generation, &policy);
  if (!s.ok()) return s;
  if (warnings) warnings->insert(warnings->end(), local.begin(), local.end());
  *out = std::move(policy);
  return Status::Ok();
}

std::vector<StaleRule> FindStaleRules(const CompiledDomain& d, const TreeView& tree) {
  std::vector<StaleRule> stale;
  for (const CompiledPathRule& rule : d.path_rules) {
    Resolution now;
    if (!ResolvePath(tree, rule.source.path, &now).ok()) {
      stale.push_back({d.id, &rule, "(symlink loop)"});
    } else if (now.canonical != rule.canonical) {
      stale.push_back({d.id, &rule, now.canonical});
    }
  }
  return stale;
}

std::vector<StaleRule> FindStaleRules(const CompiledPolicy& policy, const TreeView& tree) {
  std::vector<StaleRule> stale;
  for (const CompiledDomain& d : policy.domains()) {
    std::vector<StaleRule> of_domain = FindStaleRules(d, tree);
    stale.insert(stale.end(), of_domain.begin(), of_domain.end());
  }
  return stale;
}

}  // namespace sptfs
