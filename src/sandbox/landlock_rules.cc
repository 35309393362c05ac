#include "sandbox/landlock_rules.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <set>

#include "policy/rule_parser.h"
#include "sandbox/sandbox_rules.h"

namespace sptfs {
namespace {

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view c = path.substr(i, slash - i);
    if (!c.empty() && c != ".") out.emplace_back(c);
    i = slash + 1;
  }
  return out;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// `prefix` covers `path` by whole components.
bool Covers(const std::vector<std::string>& prefix, const std::vector<std::string>& path) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

Status Bad(int line, const std::string& what, const std::string& expected) {
  return Status::Invalid("landlock reply:" + std::to_string(line) + ": " + what + " (expected " +
                         expected + ")");
}

Status ParseHeader(const std::vector<std::string>& w, int line, LandlockDomain* out) {
  DomainHeader h;
  if (Status st = ParseDomainHeader(w, "landlock reply", line, &h); !st.ok()) return st;
  out->name = std::move(h.name);
  out->id = h.id;
  out->level = h.level;
  out->unconfined = h.unconfined;
  return Status::Ok();
}

// The longest -r rule of `d` covering `path`, or nullptr.
const std::pair<std::string, Perms>* LongestRule(const LandlockDomain& d,
                                                 const std::vector<std::string>& path) {
  const std::pair<std::string, Perms>* best = nullptr;
  size_t best_len = 0;
  for (const auto& rule : d.paths) {
    std::vector<std::string> c = Components(rule.first);
    if (Covers(c, path) && (best == nullptr || c.size() >= best_len)) {
      best = &rule;
      best_len = c.size();
    }
  }
  return best;
}

// A prefix tree of every rule path of the reachable domains (and the mount); each node
// knows the access its region should have (`want`) and what may be attached to it
// without widening any narrower node below (`safe_here`, `safe_subtree`).
struct Node {
  std::string path;
  bool is_mount = false;
  uint64_t want = 0;
  uint64_t safe_here = 0;
  uint64_t safe_subtree = 0;
  std::map<std::string, Node> kids;
};

class Planner {
 public:
  Planner(const std::vector<const LandlockDomain*>& reachable, int abi, HostView* view)
      : reachable_(reachable), abi_(abi), view_(view) {}

  LandlockPlan Plan(const std::string& mount) {
    root_.path = "/";
    std::vector<std::string> mount_c = Components(mount);
    for (const LandlockDomain* d : reachable_) {
      for (const auto& rule : d->paths) {
        std::vector<std::string> c = Components(rule.first);
        if (!Covers(mount_c, c)) Insert(c);  // under the mount, sptfs decides
      }
    }
    Node* m = Insert(mount_c);
    m->is_mount = true;
    m->kids.clear();
    std::vector<std::string> at;
    Measure(&root_, &at);
    LandlockPlan plan;
    plan.confined = true;
    plan.handled_fs = HandledFsAccess(abi_);
    Emit(root_, 0, &plan.grants);
    return plan;
  }

 private:
  Node* Insert(const std::vector<std::string>& c) {
    Node* n = &root_;
    for (const std::string& name : c) {
      if (n->is_mount) return n;  // nothing under the mount
      Node& kid = n->kids[name];
      kid.path = Join(n->path, name);
      n = &kid;
    }
    return n;
  }

  // Fills want / safe_* bottom-up. `at` is the node's path as components.
  void Measure(Node* n, std::vector<std::string>* at) {
    if (n->is_mount) {
      n->want = HandledFsAccess(abi_);
    } else {
      Perms p = kPermNone;
      for (const LandlockDomain* d : reachable_) {
        if (const auto* r = LongestRule(*d, *at)) p |= r->second;
      }
      n->want = FsAccessOf(p, abi_);
    }
    uint64_t below = ~0ull;
    for (auto& [name, kid] : n->kids) {
      at->push_back(name);
      Measure(&kid, at);
      at->pop_back();
      below &= kid.safe_subtree;
    }
    n->safe_here = n->want & below;
    // A right on a directory reaches everything under it. For a node that is not a
    // directory, listing and making entries mean nothing, so a parent may hold them.
    uint64_t relaxed = n->want;
    if (view_->Kind(n->path) == HostKind::kOther) relaxed |= ll::kReadDir | ll::kMakeAny;
    n->safe_subtree = relaxed & below;
  }

  void Emit(const Node& n, uint64_t inherited, std::vector<LandlockGrant>* out) {
    uint64_t here = n.safe_here & ~inherited;
    if (here != 0) out->push_back({n.path, here});
    uint64_t held = inherited | here;
    uint64_t missing = n.want & ~held;
    if (missing != 0 && view_->Kind(n.path) == HostKind::kDirectory) {
      for (const auto& [name, kind] : view_->List(n.path)) {
        if (n.kids.count(name) != 0 || kind == HostKind::kSymlink) continue;
        uint64_t access = kind == HostKind::kDirectory ? missing : missing & ll::kFileRights;
        if (access != 0) out->push_back({Join(n.path, name), access});
      }
    }
    for (const auto& [name, kid] : n.kids) Emit(kid, held, out);
  }

  const std::vector<const LandlockDomain*>& reachable_;
  int abi_;
  HostView* view_;
  Node root_;
};

}  // namespace

Status ParseLandlockDomains(std::string_view text, std::vector<LandlockDomain>* out) {
  std::vector<LandlockDomain> blocks;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.find_first_not_of(' ') == std::string_view::npos) continue;
    if (line.rfind("domain ", 0) == 0) {
      std::vector<std::string> w;
      for (size_t i = 0; i < line.size();) {
        size_t sp = line.find(' ', i);
        if (sp == std::string_view::npos) sp = line.size();
        if (sp > i) w.emplace_back(line.substr(i, sp - i));
        i = sp + 1;
      }
      blocks.emplace_back();
      if (Status s = ParseHeader(w, line_no, &blocks.back()); !s.ok()) return s;
      continue;
    }
    if (blocks.empty()) return Bad(line_no, "a rule before any domain line", "domain NAME ...");
    Rule rule;
    if (Status s = ParseRule(line, SourceLocation{"landlock reply", line_no}, &rule); !s.ok()) {
      return s;
    }
    LandlockDomain& d = blocks.back();
    if (rule.kind == RuleKind::kPath) {
      d.paths.emplace_back(rule.path, rule.perms);
    } else if (rule.kind == RuleKind::kTransition) {
      d.transitions.push_back(rule.target_domain);
    } else if (rule.kind == RuleKind::kNetwork) {
      d.network_ops.push_back(rule.name);
    } else {
      return Bad(line_no, "a rule of another kind", "-r, -d or -p rules only");
    }
  }
  if (blocks.empty()) return Bad(line_no, "no domain in the reply", "domain NAME ID LEVEL ...");
  *out = std::move(blocks);
  return Status::Ok();
}

Status ReachableDomains(const std::vector<LandlockDomain>& all, const std::string& start,
                        std::vector<const LandlockDomain*>* out) {
  auto by_name = [&](const std::string& name) -> const LandlockDomain* {
    for (const LandlockDomain& d : all) {
      if (d.name == name) return &d;
    }
    return nullptr;
  };
  const LandlockDomain* first = by_name(start);
  for (const LandlockDomain& d : all) {
    if (first == nullptr && !start.empty() && std::to_string(d.id) == start) first = &d;
  }
  if (first == nullptr) {
    return Status::NotFound("unknown domain \"" + start + "\" (expected a name from spt -l)");
  }
  std::set<const LandlockDomain*> seen = {first};
  std::deque<const LandlockDomain*> todo = {first};
  while (!todo.empty()) {
    const LandlockDomain* d = todo.front();
    todo.pop_front();
    for (const std::string& target : d->transitions) {
      const LandlockDomain* t = by_name(target);
      if (t == nullptr) {
        return Status::NotFound("domain " + d->name + " has a transition to \"" + target +
                                "\", which the daemon did not list (expected a known domain)");
      }
      if (seen.insert(t).second) todo.push_back(t);
    }
  }
  out->assign(seen.begin(), seen.end());
  std::sort(out->begin(), out->end(),
            [](const LandlockDomain* a, const LandlockDomain* b) { return a->id < b->id; });
  return Status::Ok();
}

uint64_t HandledFsAccess(int abi) {
  if (abi < 1) return 0;
  uint64_t all = ll::kExecute | ll::kWriteFile | ll::kReadFile | ll::kReadDir | ll::kRemoveDir |
                 ll::kRemoveFile | ll::kMakeAny;
  if (abi >= 2) all |= ll::kRefer;
  if (abi >= 3) all |= ll::kTruncate;
  if (abi >= 5) all |= ll::kIoctlDev;
  return all;
}

uint64_t FsAccessOf(Perms perms, int abi) {
  uint64_t out = 0;
  if (perms & kPermRead) out |= ll::kReadFile | ll::kReadDir;
  if (perms & kPermWrite) {
    out |= ll::kWriteFile | ll::kTruncate | ll::kMakeAny | ll::kRemoveDir | ll::kRemoveFile |
           ll::kRefer | ll::kIoctlDev;
  }
  if (perms & kPermExec) out |= ll::kExecute;
  return out & HandledFsAccess(abi);
}

LandlockPlan PlanLandlock(const std::vector<const LandlockDomain*>& reachable,
                          const std::string& mount, int abi, HostView* view) {
  LandlockPlan plan;
  if (abi < 1) {
    plan.why_unconfined = "this kernel has no Landlock";
    return plan;
  }
  for (const LandlockDomain* d : reachable) {
    if (d->unconfined) {
      plan.why_unconfined = "domain " + d->name + " is unconfined";
      return plan;
    }
    if (d->level != Level::kEnforcing) {
      plan.why_unconfined = "domain " + d->name + " is at level " +
                            std::string(LevelName(d->level)) + " (Landlock cannot warn)";
      return plan;
    }
  }
  plan = Planner(reachable, abi, view).Plan(mount);
  if (abi >= 4) {
    auto any_rule = [&](std::string_view op) {
      for (const LandlockDomain* d : reachable) {
        if (std::find(d->network_ops.begin(), d->network_ops.end(), op) != d->network_ops.end())
          return true;
      }
      return false;
    };
    if (!any_rule("inet_socket_bind")) plan.handled_net |= ll::kNetBindTcp;
    if (!any_rule("inet_socket_connect")) plan.handled_net |= ll::kNetConnectTcp;
  }
  if (abi >= 6) plan.scoped = ll::kScopeAbstractUnix | ll::kScopeSignal;
  return plan;
}

std::vector<HostRuleMatch> HostRulesAt(const std::vector<const LandlockDomain*>& reachable,
                                       std::string_view path) {
  std::vector<std::string> c = Components(path);
  std::vector<HostRuleMatch> out;
  for (const LandlockDomain* d : reachable) {
    if (const auto* r = LongestRule(*d, c)) out.push_back({d->name, r->first, r->second});
  }
  return out;
}

Perms HostPermsAt(const std::vector<const LandlockDomain*>& reachable, std::string_view path,
                  std::vector<std::string>* deciding_rules) {
  Perms out = kPermNone;
  for (const HostRuleMatch& m : HostRulesAt(reachable, path)) {
    out |= m.perms;
    if (deciding_rules != nullptr) {
      deciding_rules->push_back(m.domain + ": -r " + m.path + " " + FormatPerms(m.perms));
    }
  }
  return out;
}

uint64_t PlannedAccessAt(const LandlockPlan& plan, const std::string& path, HostView* view) {
  std::vector<std::string> at = Components(view->Resolve(path));
  uint64_t out = 0;
  for (const LandlockGrant& g : plan.grants) {
    if (Covers(Components(view->Resolve(g.path)), at)) out |= g.access;
  }
  return out & plan.handled_fs;
}

bool IsLandlockRule(const Rule& rule) {
  return rule.kind == RuleKind::kPath || rule.kind == RuleKind::kTransition ||
         rule.kind == RuleKind::kNetwork;
}

std::vector<LandlockDomain> LandlockDomainsOf(const CompiledPolicy& policy) {
  std::vector<LandlockDomain> out;
  for (const CompiledDomain& d : policy.domains()) {
    LandlockDomain l;
    l.name = d.name;
    l.id = d.id;
    l.level = d.level;
    l.unconfined = d.unconfined;
    for (const Rule& r : d.rules) {
      if (r.kind == RuleKind::kPath) l.paths.emplace_back(r.path, r.perms);
      if (r.kind == RuleKind::kTransition) l.transitions.push_back(r.target_domain);
      if (r.kind == RuleKind::kNetwork) l.network_ops.push_back(r.name);
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace sptfs
