#include "fs/access_check.h"

#include "explain/why.h"
#include "fs/inode_table.h"

namespace sptfs {

AccessChecker::AccessChecker(PolicyHolder* holder, DomainTracker* tracker, AuditLog* audit,
                             std::string default_domain, std::string label_xattr,
                             const TreeView* tree)
    : holder_(holder),
      tracker_(tracker),
      audit_(audit),
      default_domain_(std::move(default_domain)),
      label_xattr_(std::move(label_xattr)),
      tree_(tree) {}

DomainId AccessChecker::DefaultDomain(const CompiledPolicy& policy) {
  if (default_domain_.empty()) return policy.default_domain();
  uint64_t cached = default_cache_.load(std::memory_order_relaxed);
  uint64_t gen = policy.generation() & 0xffffffffu;
  if (cached != 0 && (cached >> 32) == gen) return static_cast<DomainId>(cached & 0xffffffffu);
  const CompiledDomain* d = policy.FindDomain(default_domain_);
  // A name the snapshot lacks (removed by a reload) maps to an id no domain has: denied.
  DomainId id = d ? d->id : kMaxId + 1;
  default_cache_.store((gen << 32) | id, std::memory_order_relaxed);
  return id;
}

void AccessChecker::Begin(fuse_req_t req, Subject* s) {
  s->policy = holder_ ? holder_->Current() : nullptr;
  if (!s->policy) {
    s->free = true;
    return;
  }
  const fuse_ctx* ctx = fuse_req_ctx(req);
  DomainId fallback = DefaultDomain(*s->policy);
  if (ctx->pid > 0 && tracker_) {
    s->caller = tracker_->Identify(ctx->pid, fallback);
  } else {
    s->caller = CallerInfo{};
    s->caller.tid = ctx->pid;
    s->caller.uid = ctx->uid;
    s->caller.gid = ctx->gid;
  }
  s->domain = s->caller.identified ? s->policy->FindDomain(s->caller.domain) : nullptr;
  s->free = s->domain && (s->domain->unconfined || s->domain->level == Level::kDisabled);
}

int AccessChecker::Check(const Subject& s, std::string_view path, const ResolvedLabel& label,
                         Perms requested, std::string_view op, Decision* out) {
  if (s.free) return 0;
  Decision d;
  if (!s.caller.identified) {
    d.record = true;
    d.reason = "unidentified caller";
  } else {
    d = Decide(*s.policy, s.caller.domain, path, label.id, requested);
  }
  if (out) *out = d;
  if (denials_ && !d.allowed()) {
    denials_->Record(d, requested, op, s.caller, path, label.name, s.policy);
  }
  if (d.record && audit_) {
    AccessRecord rec{&d, requested, op, &s.caller, path, label.name, s.policy->generation(),
                     {}, {}};
    // Only denials that are written pay for the hint.
    if (!d.allowed() && tree_ && s.caller.identified) {
      rec.make_hint = [&] { return StaleHintOf(s, path, label.id, requested); };
    }
    audit_->Access(rec);
  }
  return d.allowed() ? 0 : EPERM;
}

std::string AccessChecker::StaleHintOf(const Subject& s, std::string_view path, LabelId label,
                                       Perms requested) {
  const CompiledDomain* d = s.policy->FindDomain(s.caller.domain);
  if (d == nullptr || d->unconfined) return "";
  auto now = std::chrono::steady_clock::now();
  std::shared_ptr<const StaleRules> known;
  {
    std::lock_guard<std::mutex> lock(stale_mu_);
    auto it = stale_.find(d->id);
    if (it != stale_.end()) known = it->second;
  }
  if (!known || known->policy != s.policy || now - known->found >= kStaleRulesTtl) {
    // Outside the lock: two threads may both look, once; neither waits for the other.
    known =
        std::make_shared<const StaleRules>(StaleRules{s.policy, now, FindStaleRules(*d, *tree_)});
    std::lock_guard<std::mutex> lock(stale_mu_);
    stale_[d->id] = known;
  }
  return StaleHintFrom(*d, known->rules, path, label, requested);
}

int AccessChecker::Refuse(const Subject& s, Decision d, std::string_view path,
                          const ResolvedLabel& label, Perms requested, std::string_view op,
                          std::string_view hint) {
  bool warn = d.domain && d.domain->level == Level::kWarning;
  d.verdict = warn ? Verdict::kAllow : Verdict::kDeny;
  d.warning = warn;
  d.record = !(d.domain && d.domain->Silenced(path, requested));  // dontaudit
  if (denials_ && !warn) denials_->Record(d, requested, op, s.caller, path, label.name, s.policy);
  if (audit_ && d.record) {
    AccessRecord rec{&d,   requested, op, &s.caller, path, label.name, s.policy->generation(),
                     hint, {}};
    audit_->Access(rec);
  }
  return warn ? 0 : EPERM;
}

int AccessChecker::CheckNoWidening(const Subject& s, const ResolvedLabel& label,
                                   const std::string& oldpath, const std::string& newpath,
                                   const Decision& now, std::string_view op) {
  if (s.free) return 0;
  if (!s.caller.identified) return EPERM;
  Decision before = Decide(*s.policy, s.caller.domain, oldpath, label.id, kPermNone);
  Perms wider = now.granted & ~before.granted;
  if (wider == 0) return 0;
  return Refuse(s, now, newpath, label, wider, op,
                std::string(op) + " would grant more than " + oldpath);
}

void AccessChecker::AfterExec(const Subject& s, const ResolvedLabel& label,
                              const ExecTarget& target) {
  if (!s.domain || !tracker_ || s.domain->unconfined) return;
  auto it = s.domain->transitions.find(label.id);
  if (it == s.domain->transitions.end() || it->second == s.domain->id) return;
  const CompiledDomain* to = s.policy->FindDomain(it->second);
  std::string fields = "pid=" + std::to_string(s.caller.pid) +
                       " tid=" + std::to_string(s.caller.tid) + " from=" + s.domain->name + "(" +
                       std::to_string(s.domain->id) +
                       ") to=" + (to ? to->name : std::string("unknown")) + "(" +
                       std::to_string(it->second) + ") label=" + std::string(label.name);
  if (!target.interpreter.empty()) fields += " interpreter=" + AuditValue(target.interpreter);
  AuditLog* audit = audit_;
  // Runs on the exec gate's thread once the exec attempt is over. A reason may name a
  // variable of the caller's environment, whose name is anything but '=' and NUL: it is
  // encoded (escape test test_audit_transition_refusal_names_a_forged_variable).
  // A refusal counts against the rate limit: the caller execs as often as it likes
  // (escape test test_audit_flood_by_refused_transitions: 175 records a second).
  ExecReport report = [audit, fields](const std::string& refused) {
    if (!audit) return;
    if (refused.empty()) {
      audit->Event("SPT_TRANSITION", fields + " result=ok");
    } else {
      audit->LimitedEvent("SPT_TRANSITION",
                          fields + " result=refused reason=" + AuditText(refused));
    }
  };
  Status st = tracker_->ExecTransition(s.caller.tid, it->second, target, report);
  if (!st.ok() && audit_) {
    audit_->Event("SPT_TRANSITION", fields + " result=refused reason=" + AuditText(st.message()));
  }
}

ResolvedLabel AccessChecker::LabelOf(const CompiledPolicy& policy, const Inode* node,
                                     const InodeTable& table) {
  if (node->is_virtual()) return ResolvedLabel{};
  RawLabel raw;
  if (!labels_.Lookup(node->dev, node->ino, &raw)) {
    // A file we cannot read the attribute of is treated as garbage, never as unlabeled.
    PathFd pf(table, node);
    if (pf.error() || !ReadLabelFd(pf.fd(), label_xattr_, &raw).ok()) raw = RawLabel{true, ""};
    labels_.Insert(node->dev, node->ino, raw);
  }
  // A read-only map's files cannot be relabelled: one without the attribute carries the
  // default label of its path (label_resolver.h ResolveLabelAt). The path is built only
  // then; writable maps pay nothing for it.
  if (!raw.present && node->read_only) {
    return ResolveLabelAt(policy, raw, table.PathOf(node), true);
  }
  return ResolveLabel(policy, raw);
}

ResolvedLabel AccessChecker::LabelAt(const CompiledPolicy& policy, int dirfd,
                                     std::string_view name) {
  RawLabel raw;
  std::string path = "/proc/self/fd/" + std::to_string(dirfd) + "/" + std::string(name);
  if (!ReadLabel(path, label_xattr_, false, &raw).ok()) raw = RawLabel{true, ""};
  return ResolveLabel(policy, raw);
}

void AccessChecker::LabelChanged(const Inode* node) { labels_.Invalidate(node->dev, node->ino); }

void AccessChecker::LabelIs(const Inode* node, const RawLabel& raw) {
  if (!node->is_virtual()) labels_.Insert(node->dev, node->ino, raw);
}

}  // namespace sptfs
