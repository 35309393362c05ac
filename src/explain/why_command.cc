#include "explain/why_command.h"

#include <algorithm>
#include <charconv>

#include "explain/why.h"
#include "explain/why_host.h"

namespace sptfs {
namespace {

bool ParseNumber(const std::string& text, unsigned long* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

const CompiledDomain* FindDomainByNameOrId(const CompiledPolicy& p, const std::string& text) {
  unsigned long id = 0;
  if (ParseNumber(text, &id) && id <= kMaxId) return p.FindDomain(static_cast<DomainId>(id));
  return p.FindDomain(std::string_view(text));
}

constexpr char kUsage[] =
    " (expected [--host] [--domain] DOMAIN PATH [rwx] or [--host] --pid PID PATH [rwx])";

}  // namespace

Status ParseWhyOperands(const std::vector<std::string>& operands, WhyRequest* out) {
  WhyRequest r;
  std::vector<std::string> plain;
  for (size_t i = 0; i < operands.size(); ++i) {
    const std::string& w = operands[i];
    if (w == "--host") {
      r.host = true;
      continue;
    }
    bool takes = w == "--domain" || w == "--pid" || w == "--label" || w == "-L";
    if (!takes) {
      plain.push_back(w);
      continue;
    }
    if (i + 1 >= operands.size()) return Status::Invalid("--why: " + w + " needs a value");
    const std::string& v = operands[++i];
    if (w == "--domain") {
      r.domain = v;
    } else if (w == "--pid") {
      unsigned long pid = 0;
      if (!ParseNumber(v, &pid) || pid == 0 || pid > 4194304) {
        return Status::Invalid("--why: --pid " + v + ": not a process id (expected 1..4194304)");
      }
      r.pid = static_cast<pid_t>(pid);
    } else {
      r.label = v;
    }
  }
  // Without --domain/--pid the first plain word that is not a path is the domain.
  if (r.domain.empty() && r.pid == 0 && !plain.empty() && plain[0].rfind('/', 0) != 0) {
    r.domain = plain[0];
    plain.erase(plain.begin());
  }
  if (!r.domain.empty() && r.pid != 0) {
    return Status::Invalid("--why: both a domain and --pid given" + std::string(kUsage));
  }
  if (r.domain.empty() && r.pid == 0)
    return Status::Invalid("--why: no domain" + std::string(kUsage));
  if (plain.empty()) return Status::Invalid("--why: no path" + std::string(kUsage));
  if (plain.size() > 2) {
    return Status::Invalid("--why: unexpected '" + plain[2] + "'" + std::string(kUsage));
  }
  r.path = plain[0];
  if (r.path.empty() || r.path[0] != '/') {
    return Status::Invalid("--why: " + r.path +
                           ": not an absolute path (expected a path in the "
                           "mounted tree, such as /vmimages/tools-isoimages/windows.iso)");
  }
  if (plain.size() == 2 && (!ParsePerms(plain[1], &r.access) || r.access == kPermNone)) {
    return Status::Invalid("--why: access '" + plain[1] + "' (expected r, w, x or a mix, e.g. rx)");
  }
  *out = std::move(r);
  return Status::Ok();
}

namespace {

// The domain `req` asks about: 0, or the exit code with *err said.
int WhyDomain(const WhyRequest& req, const WhySources& src, DomainId* domain, std::string* err) {
  if (req.pid != 0) {
    if (!src.domain_of_pid) {
      *err += "spt: --why --pid needs a running sptfs (use --mount DIR or a domain name)\n";
      return 1;
    }
    if (Status s = src.domain_of_pid(req.pid, domain); !s.ok()) {
      *err += "spt: --why --pid " + std::to_string(req.pid) + ": " + s.message() + "\n";
      return 1;
    }
    return 0;
  }
  const CompiledDomain* d = FindDomainByNameOrId(*src.policy, req.domain);
  if (d == nullptr) {
    *err += "spt: --why: unknown domain '" + req.domain + "' (expected a name or id from spt -l)\n";
    return 1;
  }
  *domain = d->id;
  return 0;
}

// The explanation of `req.path` as a tree path: 0, or the exit code with *err said.
int WhyInTree(const WhyRequest& req, DomainId domain, const WhySources& src, std::string* text,
              std::string* err) {
  const CompiledPolicy& policy = *src.policy;
  LabelId label = kUnlabeledId;
  if (!req.label.empty()) {
    auto id = policy.FindLabel(req.label);
    if (!id) {
      *err += "spt: --why: unknown label '" + req.label + "' (expected a label from spt -l)\n";
      return 1;
    }
    label = *id;
  } else if (src.label_of) {
    Resolution res;
    if (ResolvePath(*src.tree, req.path, &res).ok()) label = src.label_of(res.canonical);
  }
  Explanation e;
  if (Status s = Explain(policy, *src.tree, domain, req.path, label, req.access, &e); !s.ok()) {
    *err += "spt: " + s.message() + "\n";
    return 1;
  }
  *text = FormatExplanation(e);
  if (!req.host && !e.path_complete && src.host != nullptr) {
    // Most likely a host path asked as a tree path: say where the host answer is.
    *text +=
        "  host path:      not in the tree; a world started without --root reaches the "
        "host's " +
        req.path + " as Landlock decides: spt --why --host\n";
  }
  return 0;
}

}  // namespace

int RunWhy(const std::vector<std::string>& operands, const WhySources& src, std::string* out,
           std::string* err) {
  WhyRequest req;
  if (Status s = ParseWhyOperands(operands, &req); !s.ok()) {
    *err += "spt: " + s.message() + "\n";
    return 2;
  }
  DomainId domain = 0;
  if (int rc = WhyDomain(req, src, &domain, err); rc != 0) return rc;
  std::string text, prefix;  // prefix: the layer line of a --host path under the mount
  if (req.host) {
    std::string tree_path;
    if (src.host == nullptr) {
      *err +=
          "spt: --why --host: this spt cannot see the host (expected a running sptfs or "
          "--policy DIR)\n";
      return 1;
    }
    if (!TreePathUnderMount(req.path, src.mount, src.host, &tree_path)) {
      if (Status s = ExplainHostAccess(*src.policy, domain, req.path, req.access, src.landlock_abi,
                                       src.mount, src.host, &text);
          !s.ok()) {
        *err += "spt: " + s.message() + "\n";
        return 1;
      }
    } else {
      prefix = "  host path:      under the mount " + src.mount + ": tree path " + tree_path + "\n";
      req.path = tree_path;
    }
  }
  if (text.empty()) {
    if (int rc = WhyInTree(req, domain, src, &text, err); rc != 0) return rc;
    if (!prefix.empty()) text.insert(text.find('\n') + 1, prefix);
  }
  if (req.pid != 0) text += "  process:        " + std::to_string(req.pid) + "\n";
  *out += text;
  return 0;
}

std::vector<std::string> RewriteExplainArgs(const std::vector<std::string>& args) {
  auto is_cmd = [](const std::string& w) {
    return w == "--why" || w == "--suggest" || w == "--import";
  };
  auto cmd = std::find_if(args.begin(), args.end(), is_cmd);
  if (cmd == args.end()) return args;
  std::vector<std::string> front, rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& w = args[i];
    if (is_cmd(w)) continue;
    bool global = w == "--policy" || w == "--root" || w == "--mount" || w == "--socket";
    bool global_eq = w.rfind("--policy=", 0) == 0 || w.rfind("--root=", 0) == 0 ||
                     w.rfind("--mount=", 0) == 0 || w.rfind("--socket=", 0) == 0 || w == "--json";
    if (global && i + 1 < args.size()) {
      front.push_back(w);
      front.push_back(args[++i]);
    } else if (global_eq) {
      front.push_back(w);
    } else if (w != "--") {
      rest.push_back(w);
    }
  }
  front.push_back(*cmd);
  front.push_back("--");
  front.insert(front.end(), rest.begin(), rest.end());
  return front;
}

}  // namespace sptfs
