#include "explain/why.h"

#include <map>

#include "policy/compiler.h"

namespace sptfs {
namespace {

// Whole-component prefix: "/a" covers "/a" and "/a/b", not "/ab".
bool Covers(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

// Step 3 of the decision: what the domain grants on objects carrying `label`.
Perms LabelGrant(const CompiledDomain& d, LabelId label) {
  if (label == kUnlabeledId) return kPermAll;
  auto it = d.object_perms.find(label);
  return it == d.object_perms.end() ? kPermNone : it->second;
}

// The decision as it would be once every stale rule of `d` is recompiled to `moved`.
bool AllowedAfterReload(const CompiledDomain& d,
                        const std::map<const CompiledPathRule*, std::string>& moved,
                        std::string_view path, LabelId label, Perms requested) {
  if (d.unconfined || d.level != Level::kEnforcing) return true;
  const CompiledPathRule* best = nullptr;
  size_t best_len = 0;
  for (const CompiledPathRule& r : d.path_rules) {
    auto it = moved.find(&r);
    const std::string& at = it == moved.end() ? r.canonical : it->second;
    if (Covers(at, path) && (best == nullptr || at.size() > best_len)) {
      best = &r;
      best_len = at.size();
    }
  }
  Perms grant = best == nullptr ? kPermNone : best->source.perms;
  grant &= LabelGrant(d, label);
  return (requested & grant) == requested;
}

std::string DomainText(const Explanation& e) {
  if (e.domain == nullptr) return "domain id " + std::to_string(e.domain_id) + " (unknown)";
  std::string level = e.domain->unconfined ? "unconfined" : std::string(LevelName(e.domain->level));
  return e.domain->name + " (" + std::to_string(e.domain->id) + ", " + level + ")";
}

std::string RuleText(const CompiledPathRule& r) {
  std::string text = r.source.ToString();
  while (!text.empty() && text.back() == ' ') text.pop_back();  // "-r /x " has empty perms
  if (r.source.perms == kPermNone) text += " (no access)";
  if (r.canonical != r.source.path) text += ", compiled to " + r.canonical;
  if (!r.source.where.file.empty()) text += "  [" + r.source.where.ToString() + "]";
  return text;
}

// The -o (or -d) rule of the domain that limits access to `label`, as written.
std::string LabelRuleText(const Explanation& e) {
  for (const Rule& r : e.domain->rules) {
    if ((r.kind == RuleKind::kObject || r.kind == RuleKind::kTransition) &&
        r.label == e.label_name) {
      return r.ToString();
    }
  }
  return "no -o " + e.label_name + " rule: nothing is granted on objects with this label";
}

std::string Verb(const Explanation& e) {
  if (!e.decision.allowed()) return "deny";
  return e.decision.warning ? "warn" : "allow";
}

std::string DecidingText(const Explanation& e) {
  const Decision& d = e.decision;
  if (e.domain == nullptr) return "none: the domain is unknown, so everything is denied";
  if (e.domain->unconfined) return "none needed: the domain is unconfined";
  if (e.domain->level == Level::kDisabled) return "none needed: the domain's level is disabled";
  if (d.path_rule == nullptr) return "none: no -r rule covers the canonical path";
  return RuleText(*d.path_rule);
}

}  // namespace

Status Explain(const CompiledPolicy& policy, const TreeView& tree, DomainId domain,
               std::string_view path, LabelId label, Perms requested, Explanation* out) {
  if (path.empty() || path[0] != '/') {
    return Status::Invalid("spt --why: " + std::string(path) +
                           ": not an absolute path (expected a path in the mounted tree)");
  }
  Resolution res;
  Status s = ResolvePath(tree, path, &res);
  if (!s.ok()) return s;
  Explanation e;
  e.path = std::string(path);
  e.canonical = res.canonical;
  e.path_complete = res.complete;
  e.domain = policy.FindDomain(domain);
  e.domain_id = domain;
  e.label = label;
  e.label_name = std::string(policy.LabelName(label));
  if (e.label_name.empty()) e.label_name = "label#" + std::to_string(label);
  e.requested = requested;
  e.decision = Decide(policy, domain, e.canonical, label, requested);
  if (e.domain != nullptr && !e.domain->unconfined) {
    std::map<const CompiledPathRule*, std::string> moved;
    for (StaleRule& st : FindStaleRules(*e.domain, tree)) {
      StaleNote note{st.rule, st.now_resolves_to, Covers(st.now_resolves_to, e.canonical),
                     Covers(st.rule->canonical, e.canonical)};
      moved[st.rule] = st.now_resolves_to;
      if (note.covers_after_reload || note.covers_now) e.stale.push_back(std::move(note));
    }
    if (!e.stale.empty()) {
      e.allowed_after_reload = AllowedAfterReload(*e.domain, moved, e.canonical, label, requested);
    }
  }
  *out = std::move(e);
  return Status::Ok();
}

std::string FormatExplanation(const Explanation& e) {
  std::string perms = FormatPerms(e.requested);
  if (perms.empty()) perms = "(nothing)";
  std::string t = Verb(e) + ": " + DomainText(e) + " " + perms + " " + e.path + "\n";
  t += "  decided by:     sptfs (a path in the tree: -r rules and object labels)\n";
  t += "  canonical path: " + e.canonical;
  if (!e.path_complete) t += " (does not fully exist)";
  t += "\n  object label:   " + e.label_name + " (" + std::to_string(e.label) + ")\n";
  t += "  deciding rule:  " + DecidingText(e) + "\n";
  if (e.domain != nullptr && e.label != kUnlabeledId && e.decision.path_rule != nullptr) {
    t += "  label rule:     " + LabelRuleText(e);
    if (e.decision.label_limited) t += " (this limited the access)";
    t += "\n";
  }
  t += "  granted:        " +
       (e.decision.granted == kPermNone ? std::string("nothing") : FormatPerms(e.decision.granted));
  if (!e.decision.allowed()) t += "; the request fails with EPERM";
  if (e.decision.warning) t += "; allowed because the level is warning, and recorded";
  t += "\n";
  for (const StaleNote& n : e.stale) {
    t += "  stale rule:     " + RuleText(*n.rule) + "\n";
    t += "                  " + n.rule->source.path + " now resolves to " + n.now_resolves_to +
         " (the policy was compiled before the link moved)\n";
  }
  if (e.allowed_after_reload.has_value()) {
    bool now = e.decision.allowed();
    bool later = *e.allowed_after_reload;
    t += "  after spt -p:   " + std::string(later ? "allow" : "deny") +
         (later == now ? " (the answer would not change)\n"
                       : " (`spt -p` would change the answer)\n");
  }
  return t;
}

Status ExplainAccess(const CompiledPolicy& policy, const TreeView& tree, DomainId domain,
                     std::string_view path, LabelId label, Perms requested, std::string* text) {
  Explanation e;
  Status s = Explain(policy, tree, domain, path, label, requested, &e);
  if (s.ok()) *text = FormatExplanation(e);
  return s;
}

std::string StaleHint(const CompiledPolicy& policy, const TreeView& tree, DomainId domain,
                      std::string_view canonical, LabelId label, Perms requested) {
  const CompiledDomain* d = policy.FindDomain(domain);
  if (d == nullptr || d->unconfined) return "";
  return StaleHintFrom(*d, FindStaleRules(*d, tree), canonical, label, requested);
}

std::string StaleHintFrom(const CompiledDomain& d, const std::vector<StaleRule>& stale,
                          std::string_view canonical, LabelId label, Perms requested) {
  if (d.unconfined) return "";
  std::map<const CompiledPathRule*, std::string> moved;
  std::string hint;
  for (const StaleRule& st : stale) {
    moved[st.rule] = st.now_resolves_to;
    if (!Covers(st.now_resolves_to, canonical) && !Covers(st.rule->canonical, canonical)) continue;
    if (!hint.empty()) hint += "; ";
    std::string rule = st.rule->source.ToString();
    while (!rule.empty() && rule.back() == ' ') rule.pop_back();
    hint += "stale rule " + rule + ": compiled to " + st.rule->canonical + ", " +
            st.rule->source.path + " now resolves to " + st.now_resolves_to;
  }
  if (hint.empty()) return "";
  bool later = AllowedAfterReload(d, moved, canonical, label, requested);
  hint += later ? "; spt -p would allow this" : "; spt -p would still deny this";
  return hint;
}

}  // namespace sptfs
