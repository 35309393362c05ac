#include "explain/suggest.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "explain/audit_fields.h"
#include "policy/rule_parser.h"

namespace sptfs {
namespace {

constexpr std::string_view kSeparator = "; ";  // between missing= items (sandbox/decision.h)

// One denial record of interest, as read from a line.
struct Record {
  bool sandbox = false;  // type=SPT_SANDBOX (socket, syscall); else SPT_AVC (file)
  bool warning = false;  // allowed at warning level: the program went on anyway
  std::string domain, domain_id, pid;
  std::string path, label, op, rule, hint;  // file records
  Perms requested = kPermNone;
  bool limited_by_label = false;
  std::string asked;                 // sandbox records
  std::vector<std::string> missing;  // sandbox records: each rule needed, or why none can
  bool survived = false;             // a later record of the same pid exists
};

bool IsDenialWord(std::string_view v) {
  return v == "denied" || v == "deny" || v == "warning" || v == "warn";
}

// An access record (docs/audit.md): "type=SPT_AVC ...: denied|warning { ... } ..." or a
// sandbox record "type=SPT_SANDBOX ...: denied|warning op=...". Events are not.
bool IsDenialRecord(const AuditFields& f, bool* sandbox) {
  auto type = f.find("type");
  *sandbox = type != f.end() && type->second == "SPT_SANDBOX";
  if (type != f.end() && type->second != "SPT_AVC" && !*sandbox) return false;
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
    else if (!word.empty())
      return false;  // "none" included: a record that asked nothing is malformed
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

void ReadDomain(const AuditFields& f, Record* r) {
  r->domain = FirstField(f, {"domain", "dom", "domain_name"});
  r->domain_id = FirstField(f, {"domain_id", "dom_id", "domid"});
  size_t paren = r->domain.find('(');  // "globalVMDom(4)"
  if (paren != std::string::npos && r->domain.back() == ')') {
    if (r->domain_id.empty())
      r->domain_id = r->domain.substr(paren + 1, r->domain.size() - paren - 2);
    r->domain.resize(paren);
  }
  r->pid = FirstField(f, {"pid"});
  r->warning = FirstField(f, {"#0"}).rfind("warn", 0) == 0;
}

std::vector<std::string> SplitMissing(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    size_t sep = text.find(kSeparator);
    std::string_view item = text.substr(0, sep);
    if (!item.empty()) items.emplace_back(item);
    if (sep == std::string_view::npos) break;
    text.remove_prefix(sep + kSeparator.size());
  }
  return items;
}

// Reads one record; "" on success, else what is missing.
std::string ReadRecord(const AuditFields& f, bool sandbox, Record* r) {
  r->sandbox = sandbox;
  ReadDomain(f, r);
  if (r->domain.empty()) return "no domain= field";
  if (sandbox) {
    r->asked = DecodeAuditValue(FirstField(f, {"asked", "op"}));
    r->missing = SplitMissing(DecodeAuditValue(FirstField(f, {"missing"})));
    return r->missing.empty() ? "no missing= field" : "";
  }
  r->path = DecodeAuditValue(FirstField(f, {"path", "name"}));
  r->label = FirstField(f, {"label", "obj", "object"});
  r->op = FirstField(f, {"op", "operation"});
  r->rule = DecodeAuditValue(FirstField(f, {"rule"}));
  r->hint = DecodeAuditValue(FirstField(f, {"hint"}));
  r->limited_by_label = FirstField(f, {"limited_by"}) == "label";
  std::string_view req = FirstField(f, {"requested", "access", "perms", "{}"});
  if (r->path.empty() || r->path[0] != '/') return "no absolute path= field";
  if (!ParseRequested(req, &r->requested)) {
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

// What the denials at one place asked for.
struct Wanted {
  Perms perms = kPermNone;
  int count = 0;
  std::set<std::string> ops;
  std::set<std::string> below;  // denied paths a directory rule stands for
  std::string recorded_rule;    // rule= of the first record ("no rule" or "-r ...")
  std::string recorded_path;    // that record's path
  int enforced = 0, survived = 0;
};

void Add(Wanted* w, const Record& r, Perms perms) {
  w->perms |= perms;
  ++w->count;
  if (!r.op.empty()) w->ops.insert(r.op);
  if (!r.asked.empty()) w->ops.insert(r.asked);
  if (w->recorded_path.empty()) {
    w->recorded_rule = r.rule;
    w->recorded_path = r.path;
  }
  if (!r.warning) {
    ++w->enforced;
    if (r.survived) ++w->survived;
  }
}

// Survived: every denial was enforced (a warning-level call goes on anyway, which
// proves nothing) and the process made a later request each time.
bool Survived(const Wanted& w) { return w.enforced > 0 && w.survived == w.enforced; }

std::string Why(const Wanted& w) {
  std::string ops;
  for (const std::string& op : w.ops) ops += (ops.empty() ? "" : ",") + op;
  std::string perms = w.perms ? " " + FormatPerms(w.perms) : "";
  return (ops.empty() ? "access" : ops) + perms + " (" + std::to_string(w.count) +
         (w.count == 1 ? " denial)" : " denials)");
}

// The -r rule that decides at `path` today: from the policy, else from the record.
struct Today {
  Perms perms = kPermNone;
  std::string rule;       // as written, "" = none
  std::string canonical;  // its compiled path ("" if unknown)
};

Today DecidingRule(const SuggestOptions& o, const std::string& domain, const std::string& path,
                   const Wanted& w) {
  Today t;
  const CompiledDomain* d = o.policy ? o.policy->FindDomain(domain) : nullptr;
  if (d) {
    if (const CompiledPathRule* rule = d->MatchPath(path)) {
      t = {rule->source.perms, rule->source.ToString(), rule->canonical};
    }
    return t;
  }
  Rule rule;
  if (!ParseRule(w.recorded_rule, {}, &rule).ok() || rule.kind != RuleKind::kPath) return t;
  // The record's rule decided at the record's path; for a directory proposed instead,
  // only if its path (as written) covers that directory too.
  if (path != w.recorded_path && !Covers(rule.path, path)) return t;
  t = {rule.perms, rule.ToString(), rule.path == path ? path : ""};
  return t;
}

enum class Place { kExact, kListing, kDirectory };

struct PathKey {
  Place place;
  std::string path;
  bool operator<(const PathKey& o) const {
    return place != o.place ? place < o.place : path < o.path;
  }
};

struct Candidate {
  PathKey key;
  Wanted want;
  Today today;
  Perms perms = kPermNone;  // want.perms | today.perms
};

struct DomainWork {
  DomainSuggestion out;
  std::map<PathKey, Wanted> paths;
  std::map<std::string, Wanted> labels;   // label -> wanted
  std::map<std::string, Wanted> sandbox;  // "-c ... grant" -> wanted
  std::map<std::string, int> notes;       // note -> denials
};

// A candidate that another one on an ancestor makes redundant: same deciding rule
// today (no rule in between decides otherwise), at least the same perms. A listing
// never stands for what lies below it.
void Minimize(std::vector<Candidate>* c) {
  std::vector<Candidate> kept;
  for (const Candidate& e : *c) {
    bool covered = std::any_of(c->begin(), c->end(), [&](const Candidate& f) {
      return &f != &e && f.key.place != Place::kListing && Covers(f.key.path, e.key.path) &&
             f.key.path != e.key.path && (f.perms & e.perms) == e.perms &&
             f.today.rule == e.today.rule;
    });
    if (!covered) kept.push_back(e);
  }
  *c = std::move(kept);
}

std::string Wider(const Candidate& c) {
  const std::string& p = c.key.path;
  if (c.key.place == Place::kListing) {
    return "listing " + p + " needs r on the directory, but -r " + p + " r also lets it read " +
           (p == "/" ? "the whole tree" : "every file below " + p) +
           " that no longer rule covers; add it only if the program must list " + p;
  }
  if (c.key.place == Place::kDirectory) {
    std::string names;
    for (const std::string& b : c.want.below) {
      if (!names.empty()) names += ", ";
      if (names.size() > 80) {
        names += "...";
        break;
      }
      names += b.substr(b.rfind('/') + 1);
    }
    return "covers every file in " + p + ", not only the denied " + names;
  }
  return "";
}

std::string TodayNote(const Candidate& c) {
  if (c.today.rule.empty() || (c.today.perms & ~c.want.perms) == 0) return "";
  if (c.today.canonical == c.key.path) return "; replaces " + c.today.rule;
  return "; keeps " + FormatPerms(c.today.perms) + " of " + c.today.rule +
         ", which decides there today";
}

void AddPathRules(const SuggestOptions& o, DomainWork* w) {
  std::vector<Candidate> c;
  for (const auto& [key, want] : w->paths) {
    Candidate k{key, want, DecidingRule(o, w->out.domain, key.path, want), kPermNone};
    k.perms = want.perms | k.today.perms;
    c.push_back(std::move(k));
  }
  Minimize(&c);
  for (const Candidate& k : c) {
    SuggestedRule r{"-r " + k.key.path + " " + FormatPerms(k.perms), Why(k.want) + TodayNote(k),
                    Wider(k), ""};
    if (Survived(k.want)) {
      r.dontaudit = "-r " + k.key.path + " " + FormatPerms(k.want.perms) + " dontaudit";
    }
    w->out.rules.push_back(std::move(r));
  }
}

int SandboxOrder(const std::string& rule) {
  return rule.rfind("-c ", 0) == 0 ? 0 : rule.rfind("-p ", 0) == 0 ? 1 : 2;
}

void AddSandboxRules(DomainWork* w) {
  std::vector<std::pair<std::string, Wanted>> rules(w->sandbox.begin(), w->sandbox.end());
  std::stable_sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
    return SandboxOrder(a.first) < SandboxOrder(b.first);
  });
  for (const auto& [text, want] : rules) {
    SuggestedRule r{text, Why(want), "", ""};
    if (Survived(want)) r.dontaudit = text.substr(0, text.size() - 5) + "dontaudit";
    w->out.rules.push_back(std::move(r));
  }
}

// The link subset rule (docs/policy-language.md): no rule should "fix" it.
bool IsSubsetRefusal(const Record& r) {
  return r.hint.find(" would grant more than ") != std::string::npos;
}

void AddFileRecord(const SuggestOptions& o, const Record& r, DomainWork* w) {
  if (IsSubsetRefusal(r)) {
    w->notes[r.op + " " + r.path + ": refused by the link subset rule (" + r.hint +
             "; the new name would add " + FormatPerms(r.requested) +
             "): a new name may not grant more than the old one, so no rule should widen it; "
             "link or move within places whose rules grant the same (docs/policy-language.md)"]++;
    return;
  }
  // "invalid" marks a garbled label attribute: no rule can grant it, relabel instead.
  if (IsLabelName(r.label) && r.label != "unlabeled" && r.label != "invalid") {
    Add(&w->labels[r.label], r, r.requested);
  }
  if (r.limited_by_label) return;  // the -r rule grants it already; the label does not
  PathKey key{Place::kExact, r.path};
  if (r.op == "opendir") {
    key.place = Place::kListing;
  } else if (o.glob || LooksGenerated(r.path)) {
    key = {Place::kDirectory, Parent(r.path)};
  }
  Wanted& want = w->paths[key];
  Add(&want, r, r.requested);
  if (key.place == Place::kDirectory) want.below.insert(r.path);
}

void AddSandboxRecord(const Record& r, DomainWork* w) {
  for (const std::string& item : r.missing) {
    Rule rule;
    bool is_rule = ParseRule(item, {}, &rule).ok() &&
                   (rule.kind == RuleKind::kCapability || rule.kind == RuleKind::kNetwork ||
                    rule.kind == RuleKind::kSyscall);
    if (is_rule) {
      Add(&w->sandbox[rule.ToString()], r, kPermNone);
    } else {
      w->notes[r.asked + ": " + item + " (no rule of the language grants it)"]++;
    }
  }
}

// Reads every denial record; marks those after which the same process went on.
std::vector<Record> ReadRecords(std::string_view text, const SuggestOptions& options,
                                std::vector<std::string>* warnings, int* bad) {
  std::vector<Record> records;
  std::map<std::string, size_t> last_of_pid;  // pid -> index of its last record
  int line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    AuditFields f;
    bool complete = ParseAuditFields(line, &f);
    bool sandbox = false;
    if (!IsDenialRecord(f, &sandbox)) continue;
    // An executable mapping (SPT_SANDBOX op="mmap" with path= and requested=x,
    // docs/syscall-classes.md) is an x access of a file, granted by a -r rule like an
    // exec: read as a file record, so it merges with the loader's open of the same file.
    if (sandbox && !FirstField(f, {"path"}).empty()) sandbox = false;
    Record r;
    std::string missing =
        complete ? ReadRecord(f, sandbox, &r) : "unterminated quote (truncated line?)";
    if (!missing.empty()) {
      warnings->push_back(options.source + ":" + std::to_string(line_no) + ": skipped: " + missing +
                          " (expected a denial record as in docs/audit.md)");
      ++*bad;
      continue;
    }
    if (!r.pid.empty() && r.pid != "0") {
      auto it = last_of_pid.find(r.pid);
      if (it != last_of_pid.end()) records[it->second].survived = true;
      last_of_pid[r.pid] = records.size();
    }
    records.push_back(std::move(r));
  }
  return records;
}

void Finish(const SuggestOptions& o, DomainWork* w) {
  AddPathRules(o, w);
  for (const auto& [label, want] : w->labels) {
    w->out.rules.push_back({"-o " + label + " " + FormatPerms(want.perms), Why(want), "", ""});
  }
  AddSandboxRules(w);
  for (const auto& [note, n] : w->notes) {
    w->out.notes.push_back(note + (n > 1 ? " (" + std::to_string(n) + " denials)" : ""));
  }
  if (!o.prefer_dontaudit) return;
  for (SuggestedRule& r : w->out.rules) {
    if (r.dontaudit.empty()) continue;
    r.why += "; the program went on after it, so silenced instead of granted";
    r.text = std::move(r.dontaudit);
    r.dontaudit.clear();
    r.wider.clear();
  }
}

}  // namespace

std::vector<std::string> NarrowingWarnings(const CompiledPolicy& policy) {
  std::vector<std::string> out;
  for (const CompiledDomain& d : policy.domains()) {
    for (const CompiledPathRule& b : d.path_rules) {
      if (d.unconfined || b.source.perms == kPermNone ||
          std::find(d.narrows.begin(), d.narrows.end(), b.source.path) != d.narrows.end()) {
        continue;
      }
      const CompiledPathRule* shadowed = nullptr;  // longest strictly shorter cover
      for (const CompiledPathRule& a : d.path_rules) {
        if (a.canonical != b.canonical && Covers(a.canonical, b.canonical) &&
            (!shadowed || a.canonical.size() > shadowed->canonical.size())) {
          shadowed = &a;
        }
      }
      if (!shadowed) continue;
      Perms lost = shadowed->source.perms & ~b.source.perms;
      if (lost == kPermNone) continue;
      out.push_back(b.source.where.ToString() + ": '" + b.source.ToString() +
                    "' grants less than '" + shadowed->source.ToString() + "' (" +
                    shadowed->source.where.ToString() + ") that it shadows: it removes " +
                    FormatPerms(lost) + " below " + b.source.path + " (expected at least " +
                    FormatPerms(shadowed->source.perms) + ", or \"" + b.source.path +
                    "\" in the domain's narrows = [...] if intended)");
    }
  }
  return out;
}

bool LooksGenerated(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  std::string_view stem = name.substr(0, name.find('.'));
  if (stem.size() < 6) return false;
  std::string_view tail = stem.substr(stem.size() - 6);
  auto cls = [](char c) {
    if (std::isupper(static_cast<unsigned char>(c))) return 0;
    if (std::islower(static_cast<unsigned char>(c))) return 1;
    if (std::isdigit(static_cast<unsigned char>(c))) return 2;
    return c == '_' ? 3 : -1;
  };
  // Words change case only at their start and rarely mix digits in; random letters
  // from mkstemp's 62 characters do both all the time.
  int odd = 0;
  bool mixed = false;  // "README", "123456": one class only is a word or a number
  for (size_t i = 0; i < tail.size(); ++i) {
    int c = cls(tail[i]);
    if (c < 0) return false;
    mixed = mixed || c != cls(tail[0]);
    if (i == 0) continue;
    int p = cls(tail[i - 1]);
    if ((p != c && (p >= 2 || c >= 2)) || (c == 0 && p <= 1)) ++odd;
  }
  return mixed && odd >= 3;
}

Status SuggestRules(std::string_view text, const SuggestOptions& options,
                    std::vector<DomainSuggestion>* out, std::vector<std::string>* warnings) {
  int bad = 0;
  std::vector<Record> records = ReadRecords(text, options, warnings, &bad);
  if (records.empty() && bad > 0) {
    return Status::Invalid(options.source + ": no readable denial record (" + std::to_string(bad) +
                           " malformed; expected docs/audit.md lines)");
  }
  std::vector<DomainWork> work;  // in order of first appearance
  for (const Record& r : records) {
    auto it = std::find_if(work.begin(), work.end(),
                           [&](const DomainWork& w) { return w.out.domain == r.domain; });
    if (it == work.end()) {
      work.push_back({});
      it = work.end() - 1;
      it->out.domain = r.domain;
      it->out.domain_id = r.domain_id;
    }
    ++it->out.denials;
    if (r.sandbox) {
      AddSandboxRecord(r, &*it);
    } else {
      AddFileRecord(options, r, &*it);
    }
  }
  out->clear();
  for (DomainWork& w : work) {
    Finish(options, &w);
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
      if (annotate) {
        t += "# " + r.why + "\n";
        if (!r.wider.empty()) t += "# wider than denied: " + r.wider + "\n";
        if (!r.dontaudit.empty()) {
          t += "# the program went on after it; if it works without, silence it instead: " +
               r.dontaudit + "\n";
        }
      }
      t += r.text + "\n";
    }
    for (const std::string& n : s.notes) t += "# no rule: " + n + "\n";
  }
  return t;
}

}  // namespace sptfs
