#include "explain/why_host.h"

#include <vector>

namespace sptfs {
namespace {

bool Under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir ||
         (path.size() > dir.size() && path.rfind(dir, 0) == 0 && path[dir.size()] == '/');
}

// The Landlock rights one access letter needs on a path of this kind. Landlock does not
// restrict walking through a directory, so x on one needs nothing.
uint64_t Needed(Perms letter, HostKind kind) {
  bool dir = kind == HostKind::kDirectory;
  if (letter == kPermRead) return dir ? ll::kReadDir : ll::kReadFile;
  if (letter == kPermWrite) {
    if (dir) return ll::kMakeReg | ll::kRemoveFile;
    return kind == HostKind::kMissing ? ll::kMakeReg : ll::kWriteFile;
  }
  return dir ? 0 : ll::kExecute;
}

// "-r PATH PERMS [file:line] of DOMAIN" for one deciding rule (the last matching rule of
// the domain: the later of two equal rules wins, as in the planner).
std::string RuleText(const CompiledPolicy& policy, const HostRuleMatch& m) {
  const CompiledDomain* d = policy.FindDomain(std::string_view(m.domain));
  const Rule* found = nullptr;
  for (size_t i = 0; d != nullptr && i < d->rules.size(); ++i) {
    const Rule& r = d->rules[i];
    if (r.kind == RuleKind::kPath && r.path == m.path && r.perms == m.perms) found = &r;
  }
  std::string text =
      "-r " + m.path + (m.perms == kPermNone ? " (no access)" : " " + FormatPerms(m.perms));
  if (found != nullptr && !found->where.file.empty()) text += "  [" + found->where.ToString() + "]";
  return text + " of " + m.domain;
}

std::string DomainList(const std::vector<const LandlockDomain*>& reach) {
  std::string out;
  for (const LandlockDomain* d : reach) out += (out.empty() ? "" : ", ") + d->name;
  return out;
}

}  // namespace

bool TreePathUnderMount(const std::string& host_path, const std::string& mount, HostView* view,
                        std::string* tree_path) {
  if (mount.empty()) return false;
  std::string p = view->Resolve(host_path), m = view->Resolve(mount);
  if (!Under(p, m)) return false;
  *tree_path = m == "/" ? p : p.substr(m.size());
  if (tree_path->empty()) *tree_path = "/";
  return true;
}

Status ExplainHostAccess(const CompiledPolicy& policy, DomainId domain, const std::string& path,
                         Perms requested, int abi, const std::string& mount, HostView* view,
                         std::string* text) {
  const CompiledDomain* cd = policy.FindDomain(domain);
  if (cd == nullptr) return Status::NotFound("--why: unknown domain id " + std::to_string(domain));
  std::vector<LandlockDomain> all = LandlockDomainsOf(policy);
  std::vector<const LandlockDomain*> reach;
  if (Status s = ReachableDomains(all, cd->name, &reach); !s.ok()) return s;
  std::string perms = FormatPerms(requested);
  std::string head = cd->name + " (" + std::to_string(cd->id) + ", " +
                     (cd->unconfined ? "unconfined" : std::string(LevelName(cd->level))) + ") " +
                     perms + " " + path + "\n";
  std::string where =
      "  host path:      outside the mount" +
      (mount.empty() ? std::string(" (no mount known: every path is a host path)") : " " + mount) +
      ", as a world started without --root sees it\n";
  // No mount known (offline): the planner still wants one; a path that does not exist
  // on the host grants nothing anyone can reach.
  LandlockPlan plan =
      PlanLandlock(reach, mount.empty() ? "/nonexistent/sptfs-no-mount" : mount, abi, view);
  if (!plan.confined) {
    std::string why = abi < 1 ? "this kernel has no Landlock: spt-run refuses to start without "
                                "--root unless --no-landlock, and then host paths are not confined"
                              : "no Landlock ruleset: " + plan.why_unconfined;
    *text = "allow: " + head + where + "  decided by:     nobody (" + why + ")\n" +
            "  granted:        everything the host's own permissions allow\n";
    return Status::Ok();
  }
  HostKind kind = view->Kind(path);
  uint64_t held = PlannedAccessAt(plan, path, view);
  Perms granted = kPermNone;
  for (Perms letter : {kPermRead, kPermWrite, kPermExec}) {
    uint64_t need = Needed(letter, kind);
    if (need == 0 && (requested & letter) == 0) continue;  // x on a directory: not asked
    if ((need & ~held) == 0) granted |= letter;
  }
  bool allowed = (requested & ~granted) == 0;
  std::vector<HostRuleMatch> rules = HostRulesAt(reach, view->Resolve(path));
  if (rules.empty()) rules = HostRulesAt(reach, path);
  std::string t = std::string(allowed ? "allow: " : "deny: ") + head + where;
  if (rules.empty()) {
    t += "  decided by:     Landlock: no -r rule covers " + path + " read as a host path\n";
  } else {
    t += "  decided by:     Landlock, from rule " + RuleText(policy, rules[0]) + "\n";
    for (size_t i = 1; i < rules.size(); ++i) {
      t += "                  and rule " + RuleText(policy, rules[i]) + "\n";
    }
  }
  t += "  ruleset of:     " + DomainList(reach) + " (the domain and those it reaches by -d: " +
       "Landlock only narrows, so a world holds their union)\n";
  Perms by_rules = kPermNone;
  for (const HostRuleMatch& m : rules) by_rules |= m.perms;
  if ((by_rules & ~granted) != 0) {
    t += "  carve-out:      a narrower rule below " + path +
         " keeps it to what is safe for "
         "that rule (" +
         (granted == kPermNone ? std::string("nothing") : FormatPerms(granted)) + " instead of " +
         FormatPerms(by_rules) + ")\n";
  }
  t +=
      "  granted:        " + (granted == kPermNone ? std::string("nothing") : FormatPerms(granted));
  if (!allowed) t += "; the request fails with EACCES (Landlock's answer)";
  *text = t + "\n";
  return Status::Ok();
}

}  // namespace sptfs
