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

}  // namespace

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
  d.record = true;
  d.reason = !d.path_rule ? "no rule" : d.label_limited ? "label" : "rule";
  if (d.domain->level == Level::kWarning) {
    d.verdict = Verdict::kAllow;
    d.warning = true;
  }
  return d;
}

}  // namespace sptfs
