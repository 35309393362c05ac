// Loads a policy set (docs/policy-language.md): policy.toml, domains/*.toml and
// default-labels.toml. Reads with toml++, whose source positions give each error its
// file:line; checks references only after every file is read.
#include "policy/loader.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "policy/rule_parser.h"

namespace sptfs {

namespace {

namespace stdfs = std::filesystem;

SourceLocation At(const std::string& file, const toml::source_region& where) {
  return {file, std::max<int>(1, static_cast<int>(where.begin.line))};
}

Status Bad(const SourceLocation& where, const std::string& what, const std::string& expected) {
  return Status::Invalid(where.ToString() + ": " + what + " (expected " + expected + ")");
}

Status ReadToml(const std::string& file, toml::table* out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Io(errno, "cannot read " + file);
  std::stringstream text;
  text << in.rdbuf();
  try {
    *out = toml::parse(text.str(), file);
  } catch (const toml::parse_error& e) {
    return Bad(At(file, e.source()), "bad TOML: " + std::string(e.description()),
               "valid TOML, see docs/policy-language.md");
  }
  return Status::Ok();
}

// Rejects keys outside `allowed` (a typo would otherwise be silently ignored).
Status CheckKeys(const toml::table& t, const std::string& file,
                 std::initializer_list<std::string_view> allowed) {
  for (auto&& [key, node] : t) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return Bad(At(file, key.source()), "unknown key '" + std::string(key.str()) + "'",
               "one of " + list);
  }
  return Status::Ok();
}

Status MissingKey(const toml::table& t, const std::string& file, std::string_view key,
                  std::string_view what) {
  return Bad(At(file, t.source()), "missing required key '" + std::string(key) + "'",
             std::string(what));
}

Status GetString(const toml::table& t, const std::string& file, std::string_view key,
                 std::string* out, SourceLocation* where) {
  const toml::node* node = t.get(key);
  if (!node) return MissingKey(t, file, key, std::string(key) + " = \"...\"");
  *where = At(file, node->source());
  if (!node->is_string())
    return Bad(*where, "'" + std::string(key) + "' is not a string", "a string");
  *out = node->as_string()->get();
  return Status::Ok();
}

Status CheckName(const std::string& name, const SourceLocation& where, std::string_view what) {
  if (name.empty()) return Bad(where, "empty " + std::string(what) + " name", "a non-empty name");
  for (unsigned char c : name) {
    if (std::isspace(c) || !std::isprint(c)) {
      return Bad(where,
                 std::string(what) + " name '" + name + "' contains a space or control character",
                 "letters, digits, _ or -");
    }
  }
  return Status::Ok();
}

Status GetId(const toml::table& t, const std::string& file, uint32_t* out, SourceLocation* at) {
  const toml::node* node = t.get("id");
  if (!node) return MissingKey(t, file, "id", "id = <number>");
  SourceLocation where = At(file, node->source());
  *at = where;
  if (!node->is_integer()) return Bad(where, "'id' is not an integer", "an integer 0..65535");
  int64_t id = node->as_integer()->get();
  if (id < 0 || id > kMaxId) {
    return Bad(where, "id " + std::to_string(id) + " out of range", "0..65535");
  }
  *out = static_cast<uint32_t>(id);
  return Status::Ok();
}

// [[label]] tables of policy.toml.
Status LoadLabels(const toml::table& root, const std::string& file, PolicySet* set) {
  const toml::node* node = root.get("label");
  if (!node) return Status::Ok();
  if (!node->is_array_of_tables()) {
    return Bad(At(file, node->source()), "'label' is not an array of tables", "[[label]] sections");
  }
  std::set<std::string> names;
  std::set<uint32_t> ids;
  for (const toml::node& item : *node->as_array()) {
    const toml::table& t = *item.as_table();
    ObjectLabel label;
    SourceLocation id_at;
    if (Status s = CheckKeys(t, file, {"name", "id"}); !s.ok()) return s;
    if (Status s = GetString(t, file, "name", &label.name, &label.where); !s.ok()) return s;
    if (Status s = CheckName(label.name, label.where, "label"); !s.ok()) return s;
    if (Status s = GetId(t, file, &label.id, &id_at); !s.ok()) return s;
    if ((label.name == kUnlabeledName) != (label.id == kUnlabeledId)) {
      return Bad(id_at, "label '" + label.name + "' with id " + std::to_string(label.id),
                 "id 0 for 'unlabeled' and only for it");
    }
    if (!names.insert(label.name).second) {
      return Bad(label.where, "duplicate label name '" + label.name + "'", "unique names");
    }
    if (!ids.insert(label.id).second) {
      return Bad(id_at, "duplicate label id " + std::to_string(label.id), "unique ids");
    }
    set->labels.push_back(std::move(label));
  }
  return Status::Ok();
}

// on_stale = "warn" | "reload" (optional; docs/policy-language.md).
Status LoadOnStale(const toml::table& root, const std::string& file, PolicySet* set) {
  if (!root.get("on_stale")) return Status::Ok();
  std::string value;
  SourceLocation where;
  if (Status s = GetString(root, file, "on_stale", &value, &where); !s.ok()) return s;
  if (value == "warn") {
    set->on_stale = OnStale::kWarn;
  } else if (value == "reload") {
    set->on_stale = OnStale::kReload;
  } else {
    return Bad(where, "on_stale = \"" + value + "\"", "on_stale = \"warn\" or \"reload\"");
  }
  return Status::Ok();
}

Status LoadSettings(const std::string& dir, PolicySet* set, SourceLocation* default_at) {
  const std::string file = dir + "/policy.toml";
  toml::table root;
  if (Status s = ReadToml(file, &root); !s.ok()) return s;
  if (Status s = CheckKeys(root, file, {"default_domain", "label", "on_stale"}); !s.ok()) {
    return s;
  }
  if (Status s = GetString(root, file, "default_domain", &set->default_domain, default_at);
      !s.ok()) {
    return s;
  }
  if (Status s = LoadOnStale(root, file, set); !s.ok()) return s;
  return LoadLabels(root, file, set);
}

Status LoadRules(const toml::table& t, const std::string& file, DomainSpec* d) {
  const toml::node* node = t.get("rules");
  if (!node) return Status::Ok();
  if (!node->is_array()) {
    return Bad(At(file, node->source()), "'rules' is not an array",
               "rules = [\"-r /tmp rw\", ...]");
  }
  for (const toml::node& item : *node->as_array()) {
    SourceLocation where = At(file, item.source());
    if (!item.is_string())
      return Bad(where, "rule is not a string", "a rule string such as \"-r /tmp rw\"");
    Rule rule;
    if (Status s = ParseRule(item.as_string()->get(), where, &rule); !s.ok()) return s;
    d->rules.push_back(std::move(rule));
  }
  return Status::Ok();
}

Status LoadDomain(const std::string& file, DomainSpec* d, SourceLocation* id_at) {
  toml::table t;
  if (Status s = ReadToml(file, &t); !s.ok()) return s;
  if (Status s = CheckKeys(t, file, {"name", "id", "level", "unconfined", "rules", "narrows"});
      !s.ok()) {
    return s;
  }
  if (Status s = GetString(t, file, "name", &d->name, &d->where); !s.ok()) return s;
  if (Status s = CheckName(d->name, d->where, "domain"); !s.ok()) return s;
  if (Status s = GetId(t, file, &d->id, id_at); !s.ok()) return s;
  if (const toml::node* level = t.get("level")) {
    SourceLocation where = At(file, level->source());
    if (!level->is_string() || !ParseLevel(level->as_string()->get(), &d->level)) {
      std::string got =
          level->is_string() ? "\"" + level->as_string()->get() + "\"" : "(not a string)";
      return Bad(where, "bad level " + got, "\"enforcing\", \"warning\" or \"disabled\"");
    }
  }
  if (const toml::node* unconfined = t.get("unconfined")) {
    if (!unconfined->is_boolean()) {
      return Bad(At(file, unconfined->source()), "'unconfined' is not a boolean", "true or false");
    }
    d->unconfined = unconfined->as_boolean()->get();
  }
  if (const toml::node* narrows = t.get("narrows")) {
    const toml::array* a = narrows->as_array();
    for (size_t i = 0; a && i < a->size(); ++i) {
      if (!(*a)[i].is_string()) a = nullptr;
    }
    if (!a) {
      return Bad(At(file, narrows->source()), "'narrows' is not an array of paths",
                 "narrows = [\"/work/proj/prog\"]");
    }
    for (const toml::node& item : *a) d->narrows.push_back(item.as_string()->get());
  }
  return LoadRules(t, file, d);
}

Status LoadDomains(const std::string& dir, PolicySet* set) {
  const stdfs::path domains = stdfs::path(dir) / "domains";
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : stdfs::directory_iterator(domains, ec)) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path().string());
  }
  if (ec) return Status::Io(ec.value(), "cannot list " + domains.string());
  std::sort(files.begin(), files.end());  // stable error order
  std::set<std::string> names;
  std::set<uint32_t> ids;
  for (const std::string& file : files) {
    DomainSpec d;
    SourceLocation id_at;
    if (Status s = LoadDomain(file, &d, &id_at); !s.ok()) return s;
    if (!names.insert(d.name).second) {
      return Bad(d.where, "duplicate domain name '" + d.name + "'", "unique names");
    }
    if (!ids.insert(d.id).second) {
      return Bad(id_at,
                 "duplicate domain id " + std::to_string(d.id) + " (domain '" + d.name + "')",
                 "unique ids");
    }
    set->domains.push_back(std::move(d));
  }
  return Status::Ok();
}

Status LoadDefaultLabels(const std::string& dir, PolicySet* set) {
  const std::string file = dir + "/default-labels.toml";
  if (!stdfs::exists(file)) return Status::Ok();  // optional: no default labels
  toml::table root;
  if (Status s = ReadToml(file, &root); !s.ok()) return s;
  if (Status s = CheckKeys(root, file, {"default"}); !s.ok()) return s;
  const toml::node* node = root.get("default");
  if (!node) return Status::Ok();
  if (!node->is_array_of_tables()) {
    return Bad(At(file, node->source()), "'default' is not an array of tables",
               "[[default]] sections");
  }
  for (const toml::node& item : *node->as_array()) {
    const toml::table& t = *item.as_table();
    DefaultLabel d;
    SourceLocation label_at;
    if (Status s = CheckKeys(t, file, {"path", "label"}); !s.ok()) return s;
    if (Status s = GetString(t, file, "path", &d.path, &d.where); !s.ok()) return s;
    if (d.path.empty() || d.path[0] != '/') {
      return Bad(d.where, "path '" + d.path + "' is not absolute", "a path starting with /");
    }
    if (Status s = GetString(t, file, "label", &d.label, &label_at); !s.ok()) return s;
    set->default_labels.push_back(std::move(d));
  }
  return Status::Ok();
}

// Names and ids are checked as files are read; here the cross-file checks.
void AddUnlabeled(PolicySet* set) {
  for (const ObjectLabel& l : set->labels) {
    if (l.id == kUnlabeledId) return;
  }
  set->labels.push_back({std::string(kUnlabeledName), kUnlabeledId, {}});
}

Status CheckDefaultDomain(const PolicySet& set, const SourceLocation& default_at) {
  for (const DomainSpec& d : set.domains) {
    if (d.name == set.default_domain) return Status::Ok();
  }
  return Bad(default_at, "unknown default domain '" + set.default_domain + "'",
             "a domain defined in domains/");
}

bool HasLabel(const PolicySet& set, const std::string& name) {
  return std::any_of(set.labels.begin(), set.labels.end(),
                     [&name](const ObjectLabel& l) { return l.name == name; });
}

Status CheckReferences(const PolicySet& set) {
  std::set<std::string, std::less<>> domains;
  for (const DomainSpec& d : set.domains) domains.insert(d.name);
  for (const DomainSpec& d : set.domains) {
    for (const Rule& r : d.rules) {
      bool labelled = r.kind == RuleKind::kObject || r.kind == RuleKind::kTransition;
      if (labelled && !HasLabel(set, r.label)) {
        return Bad(r.where, "unknown object label '" + r.label + "' in rule '" + r.ToString() + "'",
                   "a label defined in policy.toml");
      }
      if (r.kind == RuleKind::kTransition && !domains.count(r.target_domain)) {
        return Bad(r.where,
                   "unknown domain '" + r.target_domain + "' in rule '" + r.ToString() + "'",
                   "a domain defined in domains/");
      }
    }
  }
  for (const DefaultLabel& d : set.default_labels) {
    if (!HasLabel(set, d.label)) {
      return Bad(d.where, "unknown object label '" + d.label + "'",
                 "a label defined in policy.toml");
    }
  }
  return Status::Ok();
}

}  // namespace

Status LoadPolicySet(const std::string& dir, PolicySet* out) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) {
    bool exists = stdfs::exists(dir, ec);
    return Status::NotFound(dir + (exists ? ": not a directory" : ": no such file or directory") +
                            " (expected a policy set directory)");
  }
  PolicySet set;
  set.dir = dir;
  SourceLocation default_at;
  if (Status s = LoadSettings(dir, &set, &default_at); !s.ok()) return s;
  if (Status s = LoadDomains(dir, &set); !s.ok()) return s;
  if (Status s = LoadDefaultLabels(dir, &set); !s.ok()) return s;
  AddUnlabeled(&set);
  if (Status s = CheckDefaultDomain(set, default_at); !s.ok()) return s;
  if (Status s = CheckReferences(set); !s.ok()) return s;
  *out = std::move(set);
  return Status::Ok();
}

}  // namespace sptfs
