#include "explain/suggest.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "explain/audit_fields.h"

namespace sptfs {
namespace {

// One access record of interest, as read from a line.
struct Denial {
  std::string domain, domain_id, path, label, op;
  Perms requested = kPermNone;
};

bool IsDenialWord(std::string_view v) {
  return v == "denied" || v == "deny" || v == "warning" || v == "warn";
}

// An access record (docs/audit.md): "type=SPT_AVC ...: denied|warning { ... } ...".
// Events (SPT_POLICY_LOAD, a refused command's result=denied, ...) are not.
bool IsAccessRecord(const AuditFields& f) {
  auto type = f.find("type");
  if (type != f.end() && type->second != "SPT_AVC") return false;
  auto verdict = f.find("#0");
  return verdict != f.end() && IsDenialWord(verdict->second);
}

// "r", "rw", "rwx" or words such as "read,exec".
bool ParseRequested(std::string_view text, Perms* out) {
  if (ParsePerms(text, out)) return true;
  Perms p = kPermNone;
  std::string word;
  auto flush = [&]() {
    if (word == "read")
      p |= kPermRead;
    else if (word == "write")
      p |= kPermWrite;
    else if (word == "exec" || word == "execute")
      p |= kPermExec;
    else if (word == "none")
      return false;
    else if (!word.empty())
      return false;
    word.clear();
    return true;
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '|' || c == '{' || c == '}') {
      if (!flush()) return false;
    } else {
      word += c;
    }
  }
  if (!flush() || p == kPermNone) return false;
  *out = p;
  return true;
}

// Reads one access record; "" on success, else what is missing.
std::string ReadDenial(const AuditFields& f, Denial* d) {
  d->path = DecodeAuditValue(FirstField(f, {"path", "name"}));
  d->domain = FirstField(f, {"domain", "dom", "domain_name"});
  d->domain_id = FirstField(f, {"domain_id", "dom_id", "domid"});
  size_t paren = d->domain.find('(');  // "globalVMDom(4)"
  if (paren != std::string::npos && d->domain.back() == ')') {
    if (d->domain_id.empty())
      d->domain_id = d->domain.substr(paren + 1, d->domain.size() - paren - 2);
    d->domain.resize(paren);
  }
  d->label = FirstField(f, {"label", "obj", "object"});
  d->op = FirstField(f, {"op", "operation"});
  std::string_view req = FirstField(f, {"requested", "access", "perms", "{}"});
  if (d->path.empty() || d->path[0] != '/') return "no absolute path= field";
  if (d->domain.empty()) return "no domain= field";
  if (!ParseRequested(req, &d->requested)) {
    return "requested access '" + std::string(req) + "' is not a subset of rwx";
  }
  return "";
}

// A label name from the policy; garbage read from a file (hex in the log) is not one.
bool IsLabelName(std::string_view s) {
  if (s.empty() || s == "?") return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool Covers(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

struct Wanted {
  Perms perms = kPermNone;
  int count = 0;
  std::set<std::string> ops;
};

std::string Why(const Wanted& w) {
  std::string ops;
  for (const std::string& op : w.ops) ops += (ops.empty() ? "" : ",") + op;
  return (ops.empty() ? "access" : ops) + " " + FormatPerms(w.perms) + " (" +
         std::to_string(w.count) + (w.count == 1 ? " denial)" : " denials)");
}

struct DomainWork {
  DomainSuggestion out;
  std::map<std::string, Wanted> paths;   // rule path -> wanted
  std::map<std::string, Wanted> labels;  // label -> wanted
};

// Drops a path rule that an ancestor rule already grants (the ancestor is needed anyway).
void Minimize(std::map<std::string, Wanted>* paths) {
  for (auto it = paths->begin(); it != paths->end();) {
    bool covered = false;
    for (const auto& [other, w] : *paths) {
      if (other != it->first && Covers(other, it->first) &&
          (w.perms & it->second.perms) == it->second.perms) {
        covered = true;
        break;
      }
    }
    it = covered ? paths->erase(it) : std::next(it);
  }
}

void Add(Wanted* w, const Denial& d) {
  w->perms |= d.requested;
  ++w->count;
  if (!d.op.empty()) w->ops.insert(d.op);
}

}  // namespace

Status SuggestRules(std::string_view text, const SuggestOptions& options,
                    std::vector<DomainSuggestion>* out, std::vector<std::string>* warnings) {
  std::vector<DomainWork> work;  // in order of first appearance
  int line_no = 0, bad = 0, good = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    AuditFields f;
    bool complete = ParseAuditFields(line, &f);
    if (!IsAccessRecord(f)) continue;
    Denial d;
    std::string missing = complete ? ReadDenial(f, &d) : "unterminated quote (truncated line?)";
    if (!missing.empty()) {
      warnings->push_back(options.source + ":" + std::to_string(line_no) + ": skipped: " + missing +
                          " (expected an access record as in docs/audit.md)");
      ++bad;
      continue;
    }
    ++good;
    auto it = std::find_if(work.begin(), work.end(),
                           [&](const DomainWork& w) { return w.out.domain == d.domain; });
    if (it == work.end()) {
      work.push_back({});
      it = work.end() - 1;
      it->out.domain = d.domain;
      it->out.domain_id = d.domain_id;
    }
    ++it->out.denials;
    Add(&it->paths[options.glob ? Parent(d.path) : d.path], d);
    // "invalid" marks a garbled label attribute: no rule can grant it, relabel instead.
    if (IsLabelName(d.label) && d.label != "unlabeled" && d.label != "invalid") {
      Add(&it->labels[d.label], d);
    }
  }
  if (good == 0 && bad > 0) {
    return Status::Invalid(options.source + ": no readable access record (" + std::to_string(bad) +
                           " malformed; expected docs/audit.md lines)");
  }
  out->clear();
  for (DomainWork& w : work) {
    Minimize(&w.paths);
    for (const auto& [path, want] : w.paths) {
      w.out.rules.push_back({"-r " + path + " " + FormatPerms(want.perms), Why(want)});
    }
    for (const auto& [label, want] : w.labels) {
      w.out.rules.push_back({"-o " + label + " " + FormatPerms(want.perms), Why(want)});
    }
    out->push_back(std::move(w.out));
  }
  return Status::Ok();
}

std::string FormatSuggestions(const std::vector<DomainSuggestion>& suggestions, bool annotate) {
  if (suggestions.empty()) return "# no denials recorded: nothing to suggest\n";
  std::string t;
  for (const DomainSuggestion& s : suggestions) {
    if (!t.empty()) t += "\n";
    t += "# " + s.domain;
    if (!s.domain_id.empty()) t += " (" + s.domain_id + ")";
    t += ": " + std::to_string(s.denials) + (s.denials == 1 ? " denial\n" : " denials\n");
    for (const SuggestedRule& r : s.rules) {
      if (annotate) t += "# " + r.why + "\n";
      t += r.text + "\n";
    }
  }
  return t;
}

}  // namespace sptfs
