#include "fs/mount_config.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace sptfs {
namespace {

std::string Where(const std::string& file, const toml::source_region& src) {
  return file + ":" + std::to_string(src.begin.line);
}

std::string DirOf(const std::string& file) {
  size_t slash = file.rfind('/');
  return slash == std::string::npos ? "." : file.substr(0, slash == 0 ? 1 : slash);
}

std::string Absolute(const std::string& base, const std::string& p) {
  return p.empty() || p[0] == '/' ? p : base + "/" + p;
}

// Reads an optional string key; fails if present with another type.
Status GetString(const toml::table& t, const std::string& file, std::string_view key,
                 std::string* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  if (!n->is_string()) {
    return Status::Invalid(Where(file, n->source()) + ": " + std::string(key) +
                           " must be a string (expected " + std::string(key) + " = \"...\")");
  }
  *out = n->as_string()->get();
  return Status::Ok();
}

Status ParseMap(const toml::table& m, const std::string& file, const std::string& base,
                MapSpec* spec) {
  std::string at, source;
  for (auto&& [k, v] : m) {
    if (k != "at" && k != "source" && k != "read_only") {
      return Status::Invalid(Where(file, v.source()) + ": unknown key '" + std::string(k.str()) +
                             "' in [[map]] (expected at, source, read_only)");
    }
  }
  Status st = GetString(m, file, "at", &at);
  if (st.ok()) st = GetString(m, file, "source", &source);
  if (!st.ok()) return st;
  std::string here = Where(file, m.source());
  if (at.empty() || source.empty()) {
    return Status::Invalid(here +
                           ": [[map]] needs at and source (expected at = \"/lib\", "
                           "source = \"/lib\")");
  }
  if (const toml::node* ro = m.get("read_only")) {
    if (!ro->is_boolean()) {
      return Status::Invalid(Where(file, ro->source()) +
                             ": read_only must be true or false (expected read_only = true)");
    }
    spec->read_only = ro->as_boolean()->get();
  }
  st = NormaliseTreePath(at, &spec->at);
  if (!st.ok()) return Status::Invalid(here + ": at " + st.message());
  spec->source = Absolute(base, source);
  spec->line = static_cast<int>(m.source().begin.line);
  return Status::Ok();
}

Status ParseTop(const toml::table& t, const std::string& file, MountConfig* cfg) {
  static const char* kKeys[] = {"map",       "policy",    "label_xattr", "default_domain",
                                "audit_log", "socket",    "audit_rate",  "cache_timeout",
                                "writeback", "threads",   "clone_fd",    "max_idle_threads",
                                "poll_us",   "fd_budget", "io_uring"};
  for (auto&& [k, v] : t) {
    if (std::find(std::begin(kKeys), std::end(kKeys), k.str()) == std::end(kKeys)) {
      return Status::Invalid(Where(file, v.source()) + ": unknown key '" + std::string(k.str()) +
                             "' (expected map, policy, label_xattr, default_domain, audit_log, "
                             "socket, audit_rate, cache_timeout, writeback, threads, clone_fd, "
                             "max_idle_threads, poll_us, fd_budget, io_uring)");
    }
  }
  std::string base = DirOf(file);
  for (auto [key, out] :
       {std::pair{"policy", &cfg->policy_dir}, std::pair{"label_xattr", &cfg->label_xattr},
        std::pair{"default_domain", &cfg->default_domain}, std::pair{"audit_log", &cfg->audit_log},
        std::pair{"socket", &cfg->socket}}) {
    Status st = GetString(t, file, key, out);
    if (!st.ok()) return st;
  }
  cfg->policy_dir = Absolute(base, cfg->policy_dir);
  cfg->audit_log = Absolute(base, cfg->audit_log);
  cfg->socket = Absolute(base, cfg->socket);
  if (const toml::node* n = t.get("audit_rate")) {
    if (!n->is_integer() || n->as_integer()->get() < 1) {
      return Status::Invalid(Where(file, n->source()) +
                             ": audit_rate must be a positive integer (expected audit_rate = 200)");
    }
    cfg->audit_rate = static_cast<int>(n->as_integer()->get());
  }
  if (const toml::node* n = t.get("cache_timeout")) {
    auto v = n->value<double>();
    if (!v || *v < 0) {
      return Status::Invalid(
          Where(file, n->source()) +
          ": cache_timeout must be a number >= 0 (expected cache_timeout = 1.0)");
    }
    cfg->cache_timeout = *v;
  }
  if (const toml::node* n = t.get("writeback")) {
    if (!n->is_boolean()) {
      return Status::Invalid(Where(file, n->source()) +
                             ": writeback must be true or false (expected writeback = false)");
    }
    cfg->writeback = n->as_boolean()->get();
  }
  if (const toml::node* n = t.get("threads")) {
    if (!n->is_integer() || n->as_integer()->get() < 1 || n->as_integer()->get() > 1024) {
      return Status::Invalid(Where(file, n->source()) +
                             ": threads must be an integer in 1..1024 (expected threads = 2)");
    }
    cfg->threads = static_cast<int>(n->as_integer()->get());
  }
  if (const toml::node* n = t.get("clone_fd")) {
    if (!n->is_boolean()) {
      return Status::Invalid(Where(file, n->source()) +
                             ": clone_fd must be true or false (expected clone_fd = false)");
    }
    cfg->clone_fd = n->as_boolean()->get() ? 1 : 0;
  }
  if (const toml::node* n = t.get("io_uring")) {
    if (!n->is_boolean()) {
      return Status::Invalid(Where(file, n->source()) +
                             ": io_uring must be true or false (expected io_uring = true)");
    }
    cfg->io_uring = n->as_boolean()->get();
  }
  if (const toml::node* n = t.get("max_idle_threads")) {
    if (!n->is_integer() || n->as_integer()->get() < 0 || n->as_integer()->get() > 1024) {
      return Status::Invalid(
          Where(file, n->source()) +
          ": max_idle_threads must be an integer in 0..1024 (expected max_idle_threads = 2)");
    }
    cfg->max_idle_threads = static_cast<int>(n->as_integer()->get());
  }
  if (const toml::node* n = t.get("poll_us")) {
    if (!n->is_integer() || n->as_integer()->get() < 0 || n->as_integer()->get() > 10000) {
      return Status::Invalid(Where(file, n->source()) +
                             ": poll_us must be an integer in 0..10000 (expected poll_us = 50)");
    }
    cfg->poll_us = static_cast<int>(n->as_integer()->get());
  }
  if (const toml::node* n = t.get("fd_budget")) {
    if (!n->is_integer() || n->as_integer()->get() < 1) {
      return Status::Invalid(Where(file, n->source()) +
                             ": fd_budget must be a positive integer (expected fd_budget = 4096, "
                             "open handles per world)");
    }
    cfg->fd_budget = static_cast<size_t>(n->as_integer()->get());
  }
  const toml::node* maps = t.get("map");
  if (!maps || !maps->is_array_of_tables()) {
    std::string where = maps ? Where(file, maps->source()) : file + ":1";
    return Status::Invalid(where +
                           ": no [[map]] tables (expected [[map]] at = \"/\" source = "
                           "\"/srv/tree\")");
  }
  for (const toml::node& m : *maps->as_array()) {
    MapSpec spec;
    Status st = ParseMap(*m.as_table(), file, base, &spec);
    if (!st.ok()) return st;
    cfg->maps.push_back(spec);
  }
  return CheckMaps(&cfg->maps, file);
}

}  // namespace

Status NormaliseTreePath(const std::string& path, std::string* out) {
  if (path.empty() || path[0] != '/') return Status::Invalid("'" + path + "' is not absolute");
  std::string norm;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string comp = path.substr(i, j - i);
    if (comp == "." || comp == "..") {
      return Status::Invalid("'" + path + "' has a '" + comp + "' component");
    }
    if (!comp.empty()) norm += "/" + comp;
    i = j + 1;
  }
  *out = norm.empty() ? "/" : norm;
  return Status::Ok();
}

Status CheckMaps(std::vector<MapSpec>* maps, const std::string& where) {
  std::sort(maps->begin(), maps->end(),
            [](const MapSpec& a, const MapSpec& b) { return a.at < b.at; });
  for (size_t i = 1; i < maps->size(); ++i) {
    if ((*maps)[i].at == (*maps)[i - 1].at) {
      return Status::Invalid(where + ":" + std::to_string((*maps)[i].line) + ": two maps at " +
                             (*maps)[i].at + " (expected one [[map]] per at)");
    }
  }
  return Status::Ok();
}

namespace {

bool CoversPath(const std::string& prefix, const std::string& path) {
  if (prefix == "/") return true;
  return path.compare(0, prefix.size(), prefix) == 0 &&
         (path.size() == prefix.size() || path[prefix.size()] == '/');
}

// `prefix` + what `path` has below `base` (CoversPath(base, path)).
std::string Rebase(const std::string& prefix, const std::string& base, const std::string& path) {
  std::string rest = base == "/" ? path : path.substr(base.size());
  if (rest == "/") rest.clear();
  if (prefix == "/") return rest.empty() ? "/" : rest;
  return prefix + rest;
}

// The map that shows tree path `path` (the longest `at` covering it), or -1.
int ShowingMap(const std::vector<MapSpec>& maps, const std::string& path) {
  int best = -1;
  for (size_t k = 0; k < maps.size(); ++k) {
    if (CoversPath(maps[k].at, path) &&
        (best < 0 || maps[k].at.size() > maps[static_cast<size_t>(best)].at.size())) {
      best = static_cast<int>(k);
    }
  }
  return best;
}

// The tree link for map `i` (see TreeLinks), or "".
std::string TreeLinkOf(size_t i, const std::vector<MapSpec>& maps,
                       const std::vector<std::string>& real, const std::vector<bool>& is_link) {
  if (!is_link[i] || maps[i].at == "/") return "";
  // The directory map whose source holds the link's resolved directory most closely.
  int via = -1;
  for (size_t j = 0; j < maps.size(); ++j) {
    if (j == i || is_link[j] || !CoversPath(real[j], real[i])) continue;
    if (via < 0 || real[j].size() > real[static_cast<size_t>(via)].size())
      via = static_cast<int>(j);
  }
  if (via < 0) return "";
  std::string target =
      Rebase(maps[static_cast<size_t>(via)].at, real[static_cast<size_t>(via)], real[i]);
  // Another map could hide that place (or the link itself cover it: a loop).
  if (ShowingMap(maps, target) != via) return "";
  size_t slash = maps[i].at.rfind('/');
  return RelativeTreePath(slash == 0 ? "/" : maps[i].at.substr(0, slash), target);
}

}  // namespace

std::string RelativeTreePath(const std::string& from, const std::string& to) {
  std::vector<std::string> a = PathComponents(from), b = PathComponents(to);
  size_t common = 0;
  while (common < a.size() && common < b.size() && a[common] == b[common]) ++common;
  std::string out;
  for (size_t k = common; k < a.size(); ++k) out += out.empty() ? ".." : "/..";
  for (size_t k = common; k < b.size(); ++k) out += (out.empty() ? "" : "/") + b[k];
  return out.empty() ? "." : out;
}

std::vector<std::string> PathComponents(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::vector<std::string> TreeLinks(const std::vector<MapSpec>& maps,
                                   const std::vector<std::string>& real,
                                   const std::vector<bool>& is_link) {
  std::vector<std::string> out;
  for (size_t i = 0; i < maps.size(); ++i) out.push_back(TreeLinkOf(i, maps, real, is_link));
  return out;
}

Status LoadMountConfig(const std::string& file, MountConfig* out) {
  if (access(file.c_str(), R_OK) != 0) {
    return Status::NotFound(file + ": cannot read the mount config: " + std::strerror(errno) +
                            " (expected a readable TOML file)");
  }
  toml::table table;
  try {
    table = toml::parse_file(file);
  } catch (const toml::parse_error& err) {
    return Status::Invalid(file + ":" + std::to_string(err.source().begin.line) + ": " +
                           std::string(err.description()) + " (expected TOML)");
  }
  MountConfig cfg = *out;
  cfg.maps.clear();
  Status st = ParseTop(table, file, &cfg);
  if (st.ok()) *out = std::move(cfg);
  return st;
}

}  // namespace sptfs
