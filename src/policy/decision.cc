#include "policy/decision.h"

namespace sptfs {

namespace {

// Steps 2 and 3 of the decision: what the rules grant on the object.
Perms Granted(const CompiledDomain& domain, std::string_view path, LabelId label, Perms requested,
              Decision* d) {
  d->path_rule = domain.MatchPath(path);
  Perms granted = d->path_rule ? d->path_rule->source.perms : kPermNone;
  if (label != kUnlabeledId) {
    auto it = domain.object_perms.find(label);
    Perms by_label = it == domain.object_perms.end() ? kPermNone : it->second;
    d->label_limited = (requested & granted & ~by_label) != 0;
    granted &= by_label;
  }
  return granted;
}

Perms PathGrant(const CompiledDomain& domain, std::string_view path) {
  const CompiledPathRule* rule = domain.MatchPath(path);
  return rule ? rule->source.perms : kPermNone;
}

// `path` relative to `top` if it lies strictly below it (whole components), else nullopt.
std::optional<std::string_view> Below(std::string_view top, std::string_view path) {
  if (top == "/") {
    if (path.size() > 1 && path[0] == '/') return path.substr(1);
    return std::nullopt;
  }
  if (path.size() > top.size() + 1 && path.substr(0, top.size()) == top &&
      path[top.size()] == '/') {
    return path.substr(top.size() + 1);
  }
  return std::nullopt;
}

std::string Join(std::string_view top, std::string_view rel) {
  std::string out(top);
  if (rel.empty()) return out;
  if (out != "/") out += '/';
  out += rel;
  return out;
}

}  // namespace

std::optional<SubtreeWidening> FindSubtreeWidening(const CompiledDomain& domain,
                                                   std::string_view from, std::string_view to) {
  auto widens = [&](std::string_view rel) -> std::optional<SubtreeWidening> {
    Perms wider = PathGrant(domain, Join(to, rel)) & ~PathGrant(domain, Join(from, rel));
    if (wider == kPermNone) return std::nullopt;
    return SubtreeWidening{std::string(rel), wider};
  };
  if (auto w = widens("")) return w;
  for (const CompiledPathRule& rule : domain.path_rules) {
    for (std::string_view top : {from, to}) {
      if (auto rel = Below(top, rule.canonical)) {
        if (auto w = widens(*rel)) return w;
      }
    }
  }
  return std::nullopt;
}

Decision Decide(const CompiledPolicy& policy, DomainId domain, std::string_view canonical_path,
                LabelId label, Perms requested) {
  Decision d;
  d.domain = policy.FindDomain(domain);
  if (!d.domain) {
    d.record = true;
    d.reason = "unknown domain";
    return d;
  }
  if (d.domain->unconfined || d.domain->level == Level::kDisabled) {
    d.verdict = Verdict::kAllow;
    d.granted = kPermAll;
    d.reason = d.domain->unconfined ? "unconfined" : "disabled";
    return d;
  }
  d.granted = Granted(*d.domain, canonical_path, label, requested, &d);
  if ((requested & ~d.granted) == 0) {
    d.verdict = Verdict::kAllow;
    d.reason = "rule";
    return d;
  }
  // A dontaudit rule keeps the denial (or the warning) out of the log, nothing else.
  d.record = !d.domain->Silenced(canonical_path, requested & ~d.granted);
  d.reason = !d.path_rule ? "no rule" : d.label_limited ? "label" : "rule";
  if (d.domain->level == Level::kWarning) {
    d.verdict = Verdict::kAllow;
    d.warning = true;
  }
  return d;
}

}  // namespace sptfs
