// The `spt` command run by the daemon: queries over the live snapshot (through the
// policy core's RunSptQuery, so online and offline output are the same bytes) and the
// policy mutations -p, -r, -N, -C, -T; --audit-mark.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "audit/audit_log.h"
#include "cli/spt_options.h"
#include "cli/spt_query.h"
#include "control/commands.h"
#include "control/service_notify.h"
#include "control/stale_watcher.h"
#include "control/why_daemon.h"
#include "explain/replay.h"
#include "policy/compiler.h"
#include "policy/load_warnings.h"
#include "policy/loader.h"
#include "policy/policy_diff.h"
#include "policy/stale.h"

namespace sptfs {
namespace {

Reply Fail(int code, const std::string& msg) { return Reply{code, "", "spt: " + msg + "\n"}; }
Reply FromStatus(const Status& s) {
  return Fail(s.code() == Status::Code::kPermission ? 77 : 1, s.message());
}

std::string NameId(const CompiledDomain& d) { return d.name + "(" + std::to_string(d.id) + ")"; }

bool IsTagText(const std::string& tag) {
  if (tag.empty() || tag.size() > 255) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

Reply CommandRunner::Spt(const Peer& peer, const std::vector<std::string>& args) {
  SptOptions opt;
  if (Status s = ParseSptArgs(args, &opt); !s.ok()) return Fail(2, s.message());
  if (IsSptQuery(opt.command)) {
    auto policy = ctx_->policy->Current();
    LiveStates live;
    if (ctx_->tracker) {
      for (const auto& [id, count] : ctx_->tracker->WorldCounts()) {
        live[id].world_ref_count = count;
      }
    }
    if (ctx_->tree) {
      // Stale marks of -l, -d and --stale: re-resolved now (on this control thread).
      for (const StaleFinding& f : ResolveStale(*policy, *ctx_->tree, nullptr)) {
        live[f.domain].stale[f.index] = f.now;
      }
    }
    Reply reply;
    reply.exit_code = RunSptQuery(opt, *policy, live, &reply.out, &reply.err);
    return reply;
  }
  switch (opt.command) {
    case SptCommand::kLoadPolicy:
      return opt.dry_run ? DryRun(peer, opt.argument, opt.log) : Reload(peer, opt.argument, false);
    case SptCommand::kReset:
      return Reload(peer, "", true);
    case SptCommand::kNewDomain:
      return NewDomain(peer, opt.argument);
    case SptCommand::kDeleteDomain:
      return DeleteDomain(peer, opt.argument);
    case SptCommand::kSetTag:
      return SetTag(peer, opt.argument, opt.label);
    case SptCommand::kPs:
      return Ps();
    case SptCommand::kAuditMark:
      return AuditMark(peer, opt.argument);
    case SptCommand::kWhy: {
      Reply reply;
      reply.exit_code = RunWhyInDaemon(*ctx_, opt.operands, &reply.out, &reply.err);
      return reply;
    }
    default:
      return Fail(
          2, std::string(SptCommandName(opt.command)) +
                 " is not served by the daemon (expected a query, -p, -r, -N, -C, -T "
                 "--why, --ps or --audit-mark; labels: spt-label; analysis: spt --policy DIR)");
  }
}

Reply CommandRunner::Reload(const Peer& peer, const std::string& dir, bool reset) {
  const char* type = reset ? "SPT_POLICY_RESET" : "SPT_POLICY_LOAD";
  if (Status s = Authorize(peer, "policy_admin", reset ? "spt -r" : "spt -p"); !s.ok()) {
    return FromStatus(s);
  }
  if (!dir.empty() && dir[0] != '/') {
    return Fail(2, "-p " + dir + ": relative policy directory (expected an absolute path)");
  }
  if (!ctx_->tree) return Fail(1, "this daemon has no tree to compile the policy against");
  auto old = ctx_->policy->Current();
  std::string from = dir.empty() ? old->source_dir() : dir;
  std::vector<std::string> warnings;
  if (ctx_->notifier) ctx_->notifier->Reloading();
  Status s = ReloadPolicyNow(ctx_, from, &warnings);  // refuses while runtime domains are busy
  if (ctx_->notifier) ctx_->notifier->Ready();        // loaded or not, the daemon serves on
  if (!s.ok()) {
    Audit(type, peer,
          "dir=" + AuditValue(from) + " result=failed error=" + AuditText(s.message()) +
              " generation=" + std::to_string(old->generation()));
    return Fail(1, "policy not loaded, the old one stays in force: " + s.message());
  }
  if (reset) {
    std::lock_guard<std::mutex> lock(tags_mu_);
    tags_.clear();
  }
  auto now = ctx_->policy->Current();
  Audit(type, peer,
        "dir=" + AuditValue(from) + " result=ok partial=" + std::to_string(warnings.size()) +
            " generation=" + std::to_string(now->generation()));
  Reply reply;
  reply.err = FormatLoadWarnings(warnings, "spt");  // diagnostics: stderr, as sptfs shows them
  return reply;
}

// `spt -p --dry-run [DIR]`: compile DIR beside the running policy and print the change;
// exit 0 (no change) or 1 (changes), as diff does; 2 when it would not load.
Reply CommandRunner::DryRun(const Peer& peer, const std::string& dir, const std::string& log) {
  if (Status s = Authorize(peer, "policy_admin", "spt -p --dry-run"); !s.ok()) {
    return FromStatus(s);
  }
  if (!dir.empty() && dir[0] != '/') {
    return Fail(2, "-p " + dir + ": relative policy directory (expected an absolute path)");
  }
  if (!log.empty() && log[0] != '/') {
    return Fail(
        2, "--log " + log + ": relative path (expected an absolute path: the daemon reads it)");
  }
  if (!ctx_->tree) return Fail(2, "this daemon has no tree to compile the policy against");
  auto running = ctx_->policy->Current();
  std::string from = dir.empty() ? running->source_dir() : dir;
  PolicySet set;
  std::shared_ptr<const CompiledPolicy> next;
  std::vector<std::string> warnings;
  Status s = LoadPolicySet(from, &set);
  if (s.ok()) s = Compile(set, *ctx_->tree, running->generation() + 1, &next, &warnings);
  if (!s.ok()) return Fail(2, "policy would not load, the old one stays in force: " + s.message());
  bool changed = false;
  Reply reply{0, FormatPolicyDiff(*running, *next, &changed), FormatLoadWarnings(warnings, "spt")};
  if (!log.empty()) {
    std::ifstream in(log, std::ios::binary);
    if (!in) return Fail(2, "--log " + log + ": cannot read it (expected an audit log file)");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (ReplayAuditLog(log, text, *running, *next, &reply.out) > 0) changed = true;
  }
  reply.exit_code = changed ? 1 : 0;
  return reply;
}

Reply CommandRunner::NewDomain(const Peer& peer, const std::string& name) {
  if (Status s = Authorize(peer, "policy_admin", "spt -N " + name); !s.ok()) return FromStatus(s);
  if (ctx_->policy->Current()->FindDomain(name)) {
    return Fail(1, "-N " + name + ": a domain of that name exists (expected a new name)");
  }
  Status s = ctx_->policy->Update([&](const CompiledPolicy& p) { return p.WithNewDomain(name); });
  if (!s.ok()) {
    return Fail(1, "-N " + name +
                       ": cannot create the domain (expected a name of letters, "
                       "digits and _, not in use, and a free id)");
  }
  auto now = ctx_->policy->Current();
  const CompiledDomain* d = now->FindDomain(name);
  if (!d) return Fail(1, "-N " + name + ": the domain vanished (a concurrent change)");
  Audit("SPT_DOMAIN_NEW", peer,
        "domain=" + NameId(*d) + " generation=" + std::to_string(now->generation()));
  return Reply{0, "Domain " + d->name + " created with ID " + std::to_string(d->id) + "\n", ""};
}

Reply CommandRunner::DeleteDomain(const Peer& peer, const std::string& name) {
  if (Status s = Authorize(peer, "policy_admin", "spt -C " + name); !s.ok()) return FromStatus(s);
  auto policy = ctx_->policy->Current();
  const CompiledDomain* d = policy->FindDomain(name);
  if (!d) return Fail(1, "-C " + name + ": unknown domain (expected a name from spt -l)");
  if (!d->runtime) {
    return Fail(1, "-C " + name + ": defined by the policy set (expected a domain made by spt -N)");
  }
  DomainId id = d->id;
  int live = 0;
  if (ctx_->tracker) live = ctx_->tracker->WorldCounts()[id];
  if (live > 0) {
    return Fail(1, "-C " + name + ": " + std::to_string(live) +
                       " process(es) still run in it (expected none)");
  }
  std::string what = NameId(*d);
  Status s = ctx_->policy->Update([&](const CompiledPolicy& p) { return p.WithoutDomain(id); });
  if (!s.ok()) return Fail(1, "-C " + name + ": cannot delete the domain");
  {
    std::lock_guard<std::mutex> lock(tags_mu_);
    std::erase_if(tags_, [&](const VmciTag& t) { return t.domain == name; });
  }
  Audit("SPT_DOMAIN_DEL", peer,
        "domain=" + what + " generation=" + std::to_string(ctx_->policy->Current()->generation()));
  return Reply{0, "", ""};
}

Reply CommandRunner::SetTag(const Peer& peer, const std::string& tag, const std::string& domain) {
  if (Status s = Authorize(peer, "policy_admin", "spt -T " + tag); !s.ok()) return FromStatus(s);
  if (!IsTagText(tag)) {
    return Fail(2, "-T: bad tag (expected 1..255 printable characters without spaces)");
  }
  const CompiledDomain* d = ctx_->policy->Current()->FindDomain(domain);
  if (!d)
    return Fail(1, "-T " + tag + " -L " + domain + ": unknown domain (expected spt -N first)");
  {
    std::lock_guard<std::mutex> lock(tags_mu_);
    auto it = std::find_if(tags_.begin(), tags_.end(),
                           [&](const VmciTag& t) { return t.tag == tag && t.domain == domain; });
    if (it == tags_.end()) tags_.push_back({tag, domain});
  }
  Audit("SPT_VMCI_TAG", peer, "tag=" + AuditValue(tag) + " domain=" + NameId(*d));
  return Reply{0, "", ""};
}

// `spt --audit-mark TEXT`: one SPT_USER line, as auditctl -m writes a USER record. The
// writer's queue is FIFO and events are never rate limited, so the mark follows every
// record queued before it: a reader that sees the mark has seen all that came before
// (tests use it to check that a record is absent). Root or the daemon's user may write
// one from any domain: a confined caller can already write a line per refused command,
// and the mark names its caller. A confined caller's marks are rate limited.
Reply CommandRunner::AuditMark(const Peer& peer, const std::string& text) {
  constexpr size_t kMaxMark = 1024;
  if (!peer.info.identified || (peer.uid != 0 && peer.uid != geteuid())) {
    return Fail(77, "--audit-mark: permission denied (expected root or the daemon's user)");
  }
  if (text.empty() || text.size() > kMaxMark) {
    return Fail(2, "--audit-mark: text of " + std::to_string(text.size()) +
                       " bytes (expected 1 to " + std::to_string(kMaxMark) + ")");
  }
  if (!ctx_->audit) return Fail(1, "--audit-mark: this daemon writes no audit log");
  // A confined caller's marks are rate limited like access records: unlimited, a confined
  // root program wrote ~8 MB/s of them (escape test test_audit_mark_flood_by_a_confined_caller).
  const CompiledDomain* dom = ctx_->policy->Current()->FindDomain(peer.info.domain);
  std::string fields = "text=" + AuditText(text);
  if (dom && dom->unconfined) {
    Audit("SPT_USER", peer, fields);
  } else if (!AuditLimited("SPT_USER", peer, fields)) {
    return Fail(75, "--audit-mark: rate limited (the audit log's audit_rate), try again");
  }
  return Reply{0, "", ""};
}

}  // namespace sptfs
