// Mediation of FUSE requests (docs/sptfs.md "What is checked"): who is calling (the domain
// tracker), what the policy snapshot says (sptfs::Decide on the canonical path and the
// object's label), and an audit record for every denial or warning. A request takes one
// snapshot at Begin() and uses it throughout, so a reload never splits a request.
// Callers in an unconfined or disabled domain are allowed before any path or label is
// computed (Subject::free), which keeps their per-request cost at one tracker lookup.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "audit/last_denial.h"
#include "domains/tracker.h"
#include "labels/label_cache.h"
#include "labels/label_resolver.h"
#include "policy/compiler.h"
#include "policy/policy_holder.h"
#include "policy/tree.h"

namespace sptfs {

struct Inode;
class InodeTable;

// The caller of one request under one policy snapshot.
struct Subject {
  std::shared_ptr<const CompiledPolicy> policy;  // nullptr: no policy, nothing mediated
  CallerInfo caller;
  const CompiledDomain* domain = nullptr;  // nullptr: unidentified or unknown domain
  bool free = false;  // no policy, unconfined or disabled: every check passes silently
};

class AccessChecker {
 public:
  // `holder` may be nullptr (no policy). `default_domain`: name overriding the policy
  // set's default domain ("" = the policy's own).
  // `tree` (may be nullptr): the mounted tree, to say in a denial's record when a stale
  // rule (compiled before a symlink moved) decided it and `spt -p` would change that.
  // That hint is computed only for records the audit log writes (after its rate limit),
  // from the domain's stale rules kept per policy snapshot for kStaleRulesTtl: a flood
  // of denials costs no lookups in the tree, and a link moved behind the daemon's back
  // shows in the hints within that time.
  AccessChecker(PolicyHolder* holder, DomainTracker* tracker, AuditLog* audit,
                std::string default_domain, std::string label_xattr,
                const TreeView* tree = nullptr);

  void Begin(fuse_req_t req, Subject* s);
  // 0 if `requested` on the object (canonical `path`, `label`) is allowed, else EPERM.
  // Records the decision when the policy says so.
  int Check(const Subject& s, std::string_view path, const ResolvedLabel& label, Perms requested,
            std::string_view op, Decision* out = nullptr);
  // Records a refusal decided outside Decide (label forgery, link subset); EPERM, or 0 in
  // a warning domain.
  int Refuse(const Subject& s, Decision d, std::string_view path, const ResolvedLabel& label,
             Perms requested, std::string_view op, std::string_view hint);
  // After an allowed exec-open whose program must be `target`: the -d LABEL DOMAIN
  // file_exec transition, if the domain has one. The tracker holds the caller at the
  // end of its exec and decides then (tracker.h ExecTransition); every outcome is an
  // SPT_TRANSITION record.
  void AfterExec(const Subject& s, const ResolvedLabel& label, const ExecTarget& target);
  // st_dev of the mount as the kernel shows it (0 = unknown: no ELF target transitions).
  void set_mount_dev(uint64_t dev) { mount_dev_.store(dev, std::memory_order_relaxed); }
  uint64_t mount_dev() const { return mount_dev_.load(std::memory_order_relaxed); }
  // The link subset rule (AppArmor): the object may not be granted more at `newpath`
  // than at `oldpath`, else a link or rename would widen access to the same inode.
  // `now` is the decision at `newpath`. 0 or EPERM (recorded).
  int CheckNoWidening(const Subject& s, const ResolvedLabel& label, const std::string& oldpath,
                      const std::string& newpath, const Decision& now, std::string_view op);

  // Labels of backing objects, through the cache. LabelOf computes the default label of
  // a read-only map's file that has no attribute (ResolvedLabel::computed); LabelAt is
  // for names in writable directories only (create, unlink, rename), which never need it.
  ResolvedLabel LabelOf(const CompiledPolicy& policy, const Inode* node, const InodeTable& table);
  ResolvedLabel LabelAt(const CompiledPolicy& policy, int dirfd, std::string_view name);
  void LabelChanged(const Inode* node);
  // The label attribute of `node` is now `raw` (just written, or known absent).
  void LabelIs(const Inode* node, const RawLabel& raw);
  const std::string& label_xattr() const { return label_xattr_; }
  AuditLog* audit() const { return audit_; }
  // Where every denial of a caller in a world is also kept (last_denial.h), whether the
  // audit log writes it or not; set before the mount serves requests (nullptr: not kept).
  void set_last_denials(LastDenials* denials) { denials_ = denials; }

  static constexpr std::chrono::milliseconds kStaleRulesTtl{1000};

 private:
  DomainId DefaultDomain(const CompiledPolicy& policy);
  std::string StaleHintOf(const Subject& s, std::string_view path, LabelId label, Perms requested);

  // The stale rules of one domain under one snapshot (kept alive here, so the rule
  // pointers stay valid), found at `found`.
  struct StaleRules {
    std::shared_ptr<const CompiledPolicy> policy;
    std::chrono::steady_clock::time_point found;
    std::vector<StaleRule> rules;
  };

  PolicyHolder* holder_;
  DomainTracker* tracker_;
  AuditLog* audit_;
  LastDenials* denials_ = nullptr;
  std::string default_domain_;
  std::string label_xattr_;
  const TreeView* tree_;
  LabelCache labels_;
  // (generation << 32 | id) of the resolved default domain name; 0 = not yet.
  std::atomic<uint64_t> default_cache_{0};
  std::atomic<uint64_t> mount_dev_{0};
  std::mutex stale_mu_;
  std::map<DomainId, std::shared_ptr<const StaleRules>> stale_;  // under stale_mu_
};

}  // namespace sptfs
