// Dispatch, authorisation, and the commands other than `spt` (spt_commands.cc).
#include "control/commands.h"

#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <vector>

#include "audit/audit_log.h"
#include "control/landlock_command.h"
#include "policy/decision.h"
#include "policy/display.h"

namespace sptfs {
namespace {

Reply Fail(int code, const std::string& msg) { return Reply{code, "", msg + "\n"}; }
Reply Usage(const std::string& msg) { return Fail(2, "usage: " + msg); }
Reply FromStatus(const Status& s) {
  return Fail(s.code() == Status::Code::kPermission ? 77 : 1, s.message());
}

std::string DomainField(const CompiledPolicy* policy, DomainId id) {
  const CompiledDomain* d = policy ? policy->FindDomain(id) : nullptr;
  return (d ? d->name : std::string("unknown")) + "(" + std::to_string(id) + ")";
}

// A domain by name or decimal id.
const CompiledDomain* FindDomainArg(const CompiledPolicy& policy, const std::string& arg) {
  if (const CompiledDomain* d = policy.FindDomain(arg)) return d;
  char* end = nullptr;
  unsigned long id = std::strtoul(arg.c_str(), &end, 10);
  if (arg.empty() || *end != '\0' || id > kMaxId) return nullptr;
  return policy.FindDomain(static_cast<DomainId>(id));
}

// Parent pid of `pid` from /proc (0 if gone). The command name may hold ')' and spaces,
// so the fields are read after the last ')'.
pid_t ParentOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  char state = 0;
  long ppid = 0;
  if (std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) != 2) return 0;
  return static_cast<pid_t>(ppid);
}

bool IsStrictDescendant(pid_t pid, pid_t ancestor) {
  for (int depth = 0; depth < 4096 && pid > 1; ++depth) {
    pid = ParentOf(pid);
    if (pid == ancestor) return true;
  }
  return false;
}

// `sandbox` (spt-run's socket and syscall supervisor, docs/syscall-classes.md): the text
// of src/sandbox/sandbox_rules.h, which parses it (the daemon does not link that library).
std::string SandboxBlock(const CompiledDomain& d) {
  std::string out = "domain " + d.name + " " + std::to_string(d.id) + " " +
                    std::string(LevelName(d.level)) +
                    (d.unconfined ? " unconfined\n" : " confined\n");
  for (const Rule& r : d.rules) {
    if (r.kind == RuleKind::kCapability || r.kind == RuleKind::kNetwork ||
        r.kind == RuleKind::kSyscall) {
      out += r.ToString() + "\n";
    }
  }
  return out;
}

// `start` and every domain a world started in it can enter: by -d exec transitions
// and, when one of them is confined and holds domain_transition (it may `place` its own
// children in any confined domain), every confined domain. In id order. A world's
// seccomp filter is planned from these only (docs/syscall-classes.md).
std::vector<const CompiledDomain*> ReachableFrom(const CompiledPolicy& policy,
                                                 const CompiledDomain& start) {
  std::set<DomainId> seen = {start.id};
  std::vector<const CompiledDomain*> todo = {&start};
  bool places = false;
  while (!todo.empty()) {
    const CompiledDomain* d = todo.back();
    todo.pop_back();
    places = places || (!d->unconfined && d->HasCapability("domain_transition"));
    for (const auto& [label, target] : d->transitions) {
      const CompiledDomain* t = policy.FindDomain(target);
      if (t != nullptr && seen.insert(t->id).second) todo.push_back(t);
    }
  }
  std::vector<const CompiledDomain*> out;
  for (const CompiledDomain& d : policy.domains()) {
    if (seen.count(d.id) || (places && !d.unconfined)) out.push_back(&d);
  }
  return out;
}

// A dontaudit rule of the domain names one of the rules the call lacked (missing=, items
// joined by "; " as sandbox/decision.h writes them): no record.
bool SilencedSandboxDenial(const CompiledDomain& d, std::string_view missing) {
  while (!missing.empty()) {
    size_t sep = missing.find("; ");
    if (d.SilencesRule(missing.substr(0, sep))) return true;
    if (sep == std::string_view::npos) break;
    missing.remove_prefix(sep + 2);
  }
  return false;
}

bool ParsePid(const std::string& text, pid_t* pid) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v <= 0 || v > (1L << 22)) return false;
  *pid = static_cast<pid_t>(v);
  return true;
}

// The label of the file at canonical tree path `canonical`, read through the mount (as
// `spt --why` does; this runs on a control thread, never a FUSE thread).
LabelId LabelThroughMount(const DaemonContext& ctx, const CompiledPolicy& policy,
                          const std::string& canonical) {
  char buf[256];
  std::string file = ctx.mountpoint + (canonical == "/" ? "" : canonical);
  ssize_t n = lgetxattr(file.c_str(), ctx.label_xattr.c_str(), buf, sizeof(buf));
  if (n < 0) return errno == ENODATA ? kUnlabeledId : kMaxId + 1;  // unreadable: garbage
  auto id = policy.FindLabel(std::string_view(buf, static_cast<size_t>(n)));
  return id ? *id : kMaxId + 1;  // garbage: a label no rule grants
}

// The record of a refused (or warned) executable mapping: an SPT_SANDBOX line with the
// fields of a file record (docs/audit.md) that `spt --suggest` needs to turn it into the
// right rules: path, requested=x, the label, and the -r rule that decided as written.
std::string ExecMapRecord(const CompiledPolicy& policy, const CompiledDomain& d,
                          const CallerInfo& c, pid_t tid, const std::string& path, LabelId label,
                          const Decision& dec) {
  std::string name(policy.LabelName(label));  // "": a garbled label attribute
  if (name.empty()) {
    name = "invalid";
  } else if (name.find_first_of("\"\\ ") != std::string::npos) {
    name = AuditValue(name);  // label names are plain words; anything else is hex
  }
  return std::string(dec.warning ? "warning" : "denied") +
         " op=\"mmap\" asked=" + AuditText("map executable " + path) + " path=" + AuditValue(path) +
         " requested=x pid=" + std::to_string(c.identified ? c.pid : tid) +
         " tid=" + std::to_string(tid) + " comm=" + AuditValue(c.comm) +
         " exe=" + AuditValue(c.exe) + " uid=" + std::to_string(c.uid) + " label=" + name +
         " domain=" + DomainField(&policy, d.id) + " level=" + std::string(LevelName(d.level)) +
         " rule=" + (dec.path_rule ? AuditText(dec.path_rule->source.ToString()) : "\"no rule\"") +
         (dec.label_limited ? " limited_by=label" : "") + " missing=" + AuditText("x on " + path) +
         " generation=" + std::to_string(policy.generation());
}

// sandbox exec TID PATH: may thread TID map the file at tree path PATH executable (an
// `x` access, docs/syscall-classes.md "Executable mappings")? Answers "allow GEN" or
// "deny GEN" (GEN: the policy generation) and records a denial like a file denial.
Reply ExecMapCommand(const DaemonContext& ctx, pid_t tid, const std::string& path) {
  auto policy = ctx.policy->Current();
  if (!ctx.tracker) return Fail(1, "sandbox: this daemon does not track processes");
  CallerInfo c = ctx.tracker->Identify(tid, policy->default_domain());
  const CompiledDomain* d = c.identified ? policy->FindDomain(c.domain) : nullptr;
  if (d == nullptr)
    return Fail(1, "sandbox: process " + std::to_string(tid) + " cannot be identified");
  std::string gen = " " + std::to_string(policy->generation()) + "\n";
  if (d->unconfined || d->level == Level::kDisabled) return Reply{0, "allow" + gen, ""};
  if (path.empty() || path[0] != '/' || ctx.mountpoint.empty()) return Reply{0, "deny" + gen, ""};
  LabelId label = LabelThroughMount(ctx, *policy, path);
  Decision dec = Decide(*policy, d->id, path, label, kPermExec);
  if (ctx.denials && !dec.allowed()) {
    ctx.denials->Record(dec, kPermExec, "mmap", c, path, policy->LabelName(label), policy);
  }
  // Under the access records' rate limit: the world's program chooses how often it maps
  // (escape test test_audit_flood_by_executable_mappings; unlimited, a loop of refused
  // mappings wrote one record per ~30 us round trip).
  if (dec.record && ctx.audit) {
    ctx.audit->LimitedEvent("SPT_SANDBOX", ExecMapRecord(*policy, *d, c, tid, path, label, dec));
  }
  return Reply{0, (dec.allowed() ? "allow" : "deny") + gen, ""};
}

// sandbox query TID | sandbox domains [DOMAIN] | sandbox exec TID PATH | sandbox record TID
// DOMAIN_ID denied|warning
//   SYSCALL ASKED RULE [SUPPRESSED] (the caller is authorised by CommandRunner::Run).
Reply SandboxCommand(const DaemonContext& ctx, const std::vector<std::string>& args) {
  const std::string kUsage =
      "sandbox query TID | sandbox domains [DOMAIN] | sandbox record TID DOMAIN_ID "
      "denied|warning "
      "SYSCALL ASKED RULE [SUPPRESSED]";
  auto policy = ctx.policy->Current();
  pid_t tid = 0;
  if (args.size() == 1 && args[0] == "domains") {
    std::string out;
    for (const CompiledDomain& d : policy->domains()) out += SandboxBlock(d);
    return Reply{0, out, ""};
  }
  if (args.size() == 2 && args[0] == "domains") {
    const CompiledDomain* start = FindDomainArg(*policy, args[1]);
    if (start == nullptr) {
      return Fail(1, "sandbox: unknown domain \"" + args[1] + "\" (expected a name from spt -l)");
    }
    std::string out;
    for (const CompiledDomain* d : ReachableFrom(*policy, *start)) out += SandboxBlock(*d);
    return Reply{0, out, ""};
  }
  if (args.size() == 2 && args[0] == "query" && ParsePid(args[1], &tid)) {
    if (!ctx.tracker) return Fail(1, "sandbox: this daemon does not track processes");
    CallerInfo c = ctx.tracker->Identify(tid, policy->default_domain());
    const CompiledDomain* d = c.identified ? policy->FindDomain(c.domain) : nullptr;
    if (d == nullptr) return Fail(1, "sandbox: process " + args[1] + " cannot be identified");
    return Reply{0, SandboxBlock(*d), ""};
  }
  if (args.size() == 3 && args[0] == "exec" && ParsePid(args[1], &tid))
    return ExecMapCommand(ctx, tid, args[2]);
  if ((args.size() != 7 && args.size() != 8) || args[0] != "record" || !ParsePid(args[1], &tid) ||
      (args[3] != "denied" && args[3] != "warning")) {
    return Usage(kUsage);
  }
  CallerInfo c;
  if (ctx.tracker) c = ctx.tracker->Identify(tid, policy->default_domain());
  char* end = nullptr;
  unsigned long id = std::strtoul(args[2].c_str(), &end, 10);
  const CompiledDomain* d = *end == '\0' ? policy->FindDomain(static_cast<DomainId>(id)) : nullptr;
  if (ctx.audit && !(d && SilencedSandboxDenial(*d, args[6]))) {
    ctx.audit->Event("SPT_SANDBOX",
                     args[3] + " op=" + AuditValue(args[4]) + " asked=" + AuditText(args[5]) +
                         " pid=" + std::to_string(c.identified ? c.pid : tid) + " tid=" + args[1] +
                         " comm=" + AuditValue(c.comm) + " exe=" + AuditValue(c.exe) +
                         " uid=" + std::to_string(c.uid) +
                         " domain=" + DomainField(policy.get(), d ? d->id : 0) +
                         " level=" + std::string(d ? LevelName(d->level) : "enforcing") +
                         " rule=\"no rule\" missing=" + AuditText(args[6]) +
                         " generation=" + std::to_string(policy->generation()) +
                         (args.size() == 8 && args[7] != "0" &&
                                  args[7].find_first_not_of("0123456789") == std::string::npos
                              ? " suppressed=" + args[7]
                              : ""));
  }
  return Reply{0, "", ""};
}

}  // namespace

Reply CommandRunner::Run(const Peer& peer, const std::vector<std::string>& argv) {
  if (!ctx_->policy || !ctx_->policy->Current()) return Fail(1, "sptfs: no policy loaded");
  const std::string& cmd = argv[0];
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  if (cmd == "spt") return Spt(peer, args);
  if (cmd == "domain") return Domain(peer, args);
  if (cmd == "place") return Place(peer, args);
  if (cmd == "ps") return Ps();
  if (cmd == "info") return Info();
  if (cmd == "label") return Label(args);
  if (cmd == "landlock") return LandlockCommand(*ctx_->policy->Current(), args);
  if (cmd == "last-denial") return LastDenial(peer, args);
  if (cmd == "sandbox") {
    // record: only a caller that may place processes (spt-run), so a confined program
    // can neither forge nor flood records. Queries: anyone, like ps.
    // A session (a kept connection, server.h) is for supervisors only, too.
    if (!args.empty() && (args[0] == "record" || args[0] == "exec" || args[0] == "session")) {
      if (Status s = Authorize(peer, "domain_transition", "sandbox " + args[0]); !s.ok()) {
        return FromStatus(s);
      }
    }
    if (args.size() == 1 && args[0] == "session") return Reply{0, "session\n", ""};
    return SandboxCommand(*ctx_, args);
  }
  return Usage("unknown control command \"" + cmd +
               "\" (expected spt, domain, place, ps, info, label, sandbox, landlock or "
               "last-denial)");
}

void CommandRunner::Audit(std::string_view type, const Peer& peer, const std::string& fields) {
  if (!ctx_->audit) return;
  auto policy = ctx_->policy->Current();
  ctx_->audit->Event(type, fields + " pid=" + std::to_string(peer.pid) +
                               " uid=" + std::to_string(peer.uid) +
                               " caller_domain=" + DomainField(policy.get(), peer.info.domain));
}

bool CommandRunner::AuditLimited(std::string_view type, const Peer& peer,
                                 const std::string& fields) {
  if (!ctx_->audit) return false;
  auto policy = ctx_->policy->Current();
  return ctx_->audit->LimitedEvent(
      type, fields + " pid=" + std::to_string(peer.pid) + " uid=" + std::to_string(peer.uid) +
                " caller_domain=" + DomainField(policy.get(), peer.info.domain));
}

// Anyone may connect (the socket is 0666) and be refused as often as it likes, with a
// command text of its choosing up to the request's 64 KiB: the record is rate limited
// like an access record and names at most kMaxRefusedText bytes of the command (escape
// test test_audit_flood_by_refused_control_commands: unlimited, with whole names, a
// confined uid 65534 wrote 2000 lines in about a second, some of 64 KiB).
void CommandRunner::AuditRefusal(const Peer& peer, std::string_view what, std::string_view why) {
  constexpr size_t kMaxRefusedText = 200;
  std::string cmd(what.substr(0, kMaxRefusedText));
  if (what.size() > kMaxRefusedText) cmd += "... (" + std::to_string(what.size()) + " bytes)";
  AuditLimited("SPT_CONTROL_DENIED", peer,
               "cmd=" + AuditText(cmd) + " reason=" + AuditText(why) + " result=denied");
}

Status CommandRunner::Authorize(const Peer& peer, std::string_view capability,
                                std::string_view what) {
  auto policy = ctx_->policy->Current();
  const CompiledDomain* dom = policy->FindDomain(peer.info.domain);
  std::string why;
  if (!peer.info.identified) {
    why = "the caller cannot be identified";
  } else if (peer.uid != 0 && peer.uid != geteuid()) {
    why = "uid " + std::to_string(peer.uid) + " is neither root nor the daemon's user";
  } else if (dom == nullptr) {
    why = "the caller's domain " + std::to_string(peer.info.domain) + " is not defined";
  } else if (!dom->unconfined && !dom->HasCapability(capability)) {
    why = "domain " + dom->name + " is confined and lacks capability " + std::string(capability);
  }
  if (why.empty()) return Status::Ok();
  AuditRefusal(peer, what, why);
  return Status::Permission(std::string(what) + ": permission denied: " + why +
                            " (expected an unconfined domain or capability " +
                            std::string(capability) + ")");
}

Reply CommandRunner::Domain(const Peer& peer, const std::vector<std::string>& args) {
  const std::string kUsage =
      "domain list [--json] | domain set -n NAME -l LEVEL | domain set --all -l LEVEL | domain "
      "tags";
  if (args.empty()) return Usage(kUsage);
  if (args[0] == "list" && args.size() == 1) {
    return Reply{0, FormatDomainTable(*ctx_->policy->Current()), ""};
  }
  if (args[0] == "list" && args.size() == 2 && args[1] == "--json") {
    return Reply{0, DomainTableJson(*ctx_->policy->Current()), ""};
  }
  if (args[0] == "tags" && args.size() == 1) {
    std::lock_guard<std::mutex> lock(tags_mu_);
    std::string out = "Tag                             Domain\n";
    for (const VmciTag& t : tags_) {
      out += t.tag + std::string(t.tag.size() < 32 ? 32 - t.tag.size() : 1, ' ') + t.domain + "\n";
    }
    return Reply{0, out, ""};
  }
  if (args[0] != "set") return Usage(kUsage);
  std::string name, level;
  bool all = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool has_value = i + 1 < args.size();
    if ((a == "-n" || a == "--name") && has_value) {
      name = args[++i];
    } else if ((a == "-l" || a == "--level") && has_value) {
      level = args[++i];
    } else if (a == "-a" || a == "--all") {
      all = true;
    } else {
      return Usage("domain set: unexpected argument \"" + a + "\" (expected " + kUsage + ")");
    }
  }
  if (level.empty() || all == !name.empty()) {
    return Usage("domain set needs -l LEVEL and exactly one of -n NAME or --all");
  }
  return SetLevel(peer, name, all, level);
}

Reply CommandRunner::SetLevel(const Peer& peer, const std::string& name, bool all,
                              const std::string& level_text) {
  Level level;
  if (!ParseLevel(level_text, &level)) {
    return Fail(2, "unknown enforcement level \"" + level_text +
                       "\" (expected enforcing, warning or disabled)");
  }
  std::string what = all ? "domain set --all" : "domain set -n " + name;
  if (Status s = Authorize(peer, "policy_admin", what); !s.ok()) return FromStatus(s);
  std::vector<std::pair<std::string, Level>> changed;  // name(id), old level
  Status s = ctx_->policy->Update([&](const CompiledPolicy& old) {
    changed.clear();
    for (const CompiledDomain& d : old.domains()) {
      if ((all || d.name == name) && d.level != level) {
        changed.emplace_back(d.name + "(" + std::to_string(d.id) + ")", d.level);
      }
    }
    if (all) return old.WithAllLevels(level);
    const CompiledDomain* d = old.FindDomain(name);
    return d ? old.WithLevel(d->id, level) : nullptr;
  });
  if (!s.ok()) {
    return Fail(1, "unknown domain \"" + name + "\" (expected a name from spt-domain list)");
  }
  uint64_t generation = ctx_->policy->Current()->generation();
  for (const auto& [domain, old] : changed) {
    Audit("SPT_LEVEL", peer,
          "domain=" + domain + " old=" + std::string(LevelName(old)) +
              " new=" + std::string(LevelName(level)) + (all ? " all=1" : "") +
              " generation=" + std::to_string(generation));
  }
  return Reply{0, "", ""};
}

Reply CommandRunner::Place(const Peer& peer, const std::vector<std::string>& args) {
  if (args.size() != 2) return Usage("place PID DOMAIN");
  char* end = nullptr;
  long pid = std::strtol(args[0].c_str(), &end, 10);
  if (args[0].empty() || *end != '\0' || pid <= 0 || pid > (1L << 22)) {
    return Fail(2, "place: bad pid \"" + args[0] + "\" (expected a positive process id)");
  }
  auto policy = ctx_->policy->Current();
  const CompiledDomain* dom = FindDomainArg(*policy, args[1]);
  if (!dom) {
    return Fail(1, "place: unknown domain \"" + args[1] + "\" (expected a name from spt -l)");
  }
  std::string what = "place " + args[0] + " " + dom->name;
  if (Status s = Authorize(peer, "domain_transition", what); !s.ok()) return FromStatus(s);
  if (Status s = LimitConfinedPlacer(peer, *policy, *dom, static_cast<pid_t>(pid), what); !s.ok()) {
    return FromStatus(s);
  }
  if (!ctx_->tracker) return Fail(1, "place: this daemon does not track processes");
  Status s = ctx_->tracker->Place(static_cast<pid_t>(pid), dom->id);
  Audit("SPT_TRANSITION", peer,
        "target_pid=" + args[0] + " domain=" + dom->name + "(" + std::to_string(dom->id) +
            ") result=" + (s.ok() ? "ok" : "failed error=" + AuditText(s.message())));
  if (!s.ok()) return FromStatus(s);
  return Reply{0, "", ""};
}

// A confined caller holding domain_transition may start programs in other domains
// (spt-run), but only its own new processes, and never in an unconfined domain: else it
// could move itself, or anyone, out of its sandbox.
Status CommandRunner::LimitConfinedPlacer(const Peer& peer, const CompiledPolicy& policy,
                                          const CompiledDomain& target, pid_t pid,
                                          const std::string& what) {
  const CompiledDomain* own = policy.FindDomain(peer.info.domain);
  if (own && own->unconfined) return Status::Ok();
  std::string why;
  if (target.unconfined) {
    why = "a confined caller cannot place a process in the unconfined domain " + target.name;
  } else if (!IsStrictDescendant(pid, peer.pid)) {
    why = "process " + std::to_string(pid) + " is not a descendant of the caller";
  }
  if (why.empty()) return Status::Ok();
  AuditRefusal(peer, what, why);
  return Status::Permission(what + ": permission denied: " + why +
                            " (expected a child of the caller, in a confined domain)");
}

// last-denial [PID]: the last file denial of the caller's own world, or of the world
// process PID lives in. A world's own processes may read its record (nothing in it is
// news to them); another world's is for those who may start worlds (spt-run, an
// unconfined administrator), and a confined one of them only for its own descendants,
// as for `place`: a confined program must not learn what other worlds were refused.
Reply CommandRunner::LastDenial(const Peer& peer, const std::vector<std::string>& args) {
  if (args.size() > 1) return Usage("last-denial [PID]");
  if (!ctx_->tracker || !ctx_->denials) {
    return Fail(1, "last-denial: this daemon does not track processes");
  }
  if (!peer.info.identified) {
    return FromStatus(
        Status::Permission("last-denial: permission denied: the caller cannot be identified"));
  }
  uint64_t world = peer.info.world;
  if (args.size() == 1) {
    pid_t pid = 0;
    if (!ParsePid(args[0], &pid)) {
      return Fail(2, "last-denial: bad pid \"" + args[0] + "\" (expected a positive process id)");
    }
    CallerInfo target = ctx_->tracker->Identify(pid, ctx_->policy->Current()->default_domain());
    if (!target.identified) return Fail(1, "last-denial: no process " + args[0]);
    if (target.world != world) {
      std::string what = "last-denial " + args[0];
      if (Status s = Authorize(peer, "domain_transition", what); !s.ok()) return FromStatus(s);
      if (Status s = LimitConfinedInspector(peer, pid, what); !s.ok()) return FromStatus(s);
    }
    world = target.world;
    if (world == 0) {
      return Fail(1, "last-denial: process " + args[0] +
                         " is in no confined world (expected a process started by spt-run)");
    }
  } else if (world == 0) {
    return Fail(1, "last-denial: the caller is in no confined world (expected last-denial PID)");
  }
  DenialRecord r;
  if (!ctx_->denials->Find(world, &r)) return Reply{0, "", ""};
  return Reply{0, FormatDenial(r), ""};
}

// A confined caller may read the records of its own descendants' worlds only.
Status CommandRunner::LimitConfinedInspector(const Peer& peer, pid_t pid, const std::string& what) {
  const CompiledDomain* own = ctx_->policy->Current()->FindDomain(peer.info.domain);
  if ((own && own->unconfined) || IsStrictDescendant(pid, peer.pid)) return Status::Ok();
  std::string why = "process " + std::to_string(pid) + " is not a descendant of the caller";
  AuditRefusal(peer, what, why);
  return Status::Permission(what + ": permission denied: " + why +
                            " (expected a process of the caller's own world or a child of it)");
}

Reply CommandRunner::Ps() {
  if (!ctx_->tracker) return Fail(1, "ps: this daemon does not track processes");
  auto policy = ctx_->policy->Current();
  std::string out = "PID      Domain                      Command\n";
  for (const ConfinedProcess& p : ctx_->tracker->List()) {
    std::string pid = std::to_string(p.pid), dom = DomainField(policy.get(), p.domain);
    out += pid + std::string(pid.size() < 9 ? 9 - pid.size() : 1, ' ') + dom +
           std::string(dom.size() < 28 ? 28 - dom.size() : 1, ' ') + p.comm + "\n";
  }
  return Reply{0, out, ""};
}

Reply CommandRunner::Info() {
  auto policy = ctx_->policy->Current();
  std::string out = "mountpoint=" + ctx_->mountpoint + "\n";
  out += "label_xattr=" + ctx_->label_xattr + "\n";
  out += "policy_dir=" + policy->source_dir() + "\n";
  out += "generation=" + std::to_string(policy->generation()) + "\n";
  out += "default_domain=" + DomainField(policy.get(), policy->default_domain()) + "\n";
  return Reply{0, out, ""};
}

Reply CommandRunner::Label(const std::vector<std::string>& args) {
  auto policy = ctx_->policy->Current();
  if (args.size() == 2 && args[0] == "check") {
    if (policy->FindLabel(args[1])) return Reply{0, "", ""};
    return Fail(1, "unknown label \"" + args[1] + "\" (expected a label from spt -l)");
  }
  if (args.size() >= 2 && args[0] == "default") {
    std::string out;
    for (size_t i = 1; i < args.size(); ++i) {
      LabelId id = policy->DefaultLabelFor(args[i]);
      out += std::string(id == kUnlabeledId ? kUnlabeledName : policy->LabelName(id)) + "\n";
    }
    return Reply{0, out, ""};
  }
  return Usage("label check NAME | label default PATH...");
}

}  // namespace sptfs
