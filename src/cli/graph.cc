// Builds the transition graph from CompiledDomain::transitions (label -> domain), so it
// shows exactly what the decision code follows, for the snapshot it is given.
#include "cli/graph.h"

#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "policy/display.h"

extern char** environ;

namespace sptfs {
namespace {

struct Edge {
  DomainId from, to;
  std::string label;
};

std::vector<Edge> AllEdges(const CompiledPolicy& policy) {
  std::vector<Edge> edges;
  for (const CompiledDomain& d : policy.domains()) {
    for (const auto& [label, to] : d.transitions) {
      std::string name(policy.LabelName(label));
      edges.push_back({d.id, to, name.empty() ? "#" + std::to_string(label) : name});
    }
  }
  return edges;
}

const CompiledDomain* FindDomainArg(const CompiledPolicy& policy, const std::string& arg) {
  DomainId id = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), id);
  if (ec == std::errc() && end == arg.data() + arg.size()) return policy.FindDomain(id);
  return policy.FindDomain(arg);
}

// Domains reachable from `start` following edges forwards (or backwards).
void Reach(DomainId start, const std::vector<Edge>& edges, bool forward, std::set<DomainId>* seen) {
  std::vector<DomainId> todo = {start};
  while (!todo.empty()) {
    DomainId at = todo.back();
    todo.pop_back();
    for (const Edge& e : edges) {
      DomainId from = forward ? e.from : e.to, to = forward ? e.to : e.from;
      if (from == at && seen->insert(to).second) todo.push_back(to);
    }
  }
}

// The domains to draw: all, or the chosen one and every domain on a path through it.
Status Select(const CompiledPolicy& policy, const std::string& domain,
              const std::vector<Edge>& edges, std::set<DomainId>* keep) {
  if (domain.empty()) {
    for (const CompiledDomain& d : policy.domains()) keep->insert(d.id);
    return Status::Ok();
  }
  const CompiledDomain* d = FindDomainArg(policy, domain);
  if (!d) {
    return Status::NotFound("unknown domain '" + domain +
                            "' (expected a domain id or name, see spt -l)");
  }
  keep->insert(d->id);
  Reach(d->id, edges, true, keep);
  Reach(d->id, edges, false, keep);
  return Status::Ok();
}

std::string DotEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string DotQuote(std::string_view s) { return "\"" + DotEscape(s) + "\""; }

// Node attributes: shape and style say how the domain is confined.
std::string NodeAttrs(const CompiledDomain& d) {
  std::string kind = d.unconfined ? "unconfined" : std::string(LevelName(d.level));
  // "\n" is DOT's line break inside a label.
  std::string attrs =
      "label=\"" + DotEscape(d.name) + "\\n" + std::to_string(d.id) + " " + kind + "\"";
  if (d.unconfined) attrs += ", shape=octagon, penwidth=2";
  std::string style;
  if (d.level == Level::kWarning) style = "dashed";
  if (d.level == Level::kDisabled) style = "dotted";
  if (d.runtime) style += style.empty() ? "filled" : ",filled";
  if (!style.empty()) attrs += ", style=" + DotQuote(style);
  if (d.runtime) attrs += ", fillcolor=lightgrey";
  return attrs;
}

}  // namespace

Status TransitionGraphDot(const CompiledPolicy& policy, const std::string& domain,
                          std::string* out) {
  std::vector<Edge> edges = AllEdges(policy);
  std::set<DomainId> keep;
  if (Status s = Select(policy, domain, edges, &keep); !s.ok()) return s;
  std::string dot = "digraph sptfs_domains {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const CompiledDomain& d : policy.domains()) {
    if (keep.count(d.id)) dot += "  " + DotQuote(d.name) + " [" + NodeAttrs(d) + "];\n";
  }
  for (const Edge& e : edges) {
    if (!keep.count(e.from) || !keep.count(e.to)) continue;
    dot += "  " + DotQuote(policy.FindDomain(e.from)->name) + " -> " +
           DotQuote(policy.FindDomain(e.to)->name) + " [label=" + DotQuote(e.label) + "];\n";
  }
  *out += dot + "}\n";
  return Status::Ok();
}

Status TransitionGraphJson(const CompiledPolicy& policy, const std::string& domain,
                           std::string* out) {
  std::vector<Edge> edges = AllEdges(policy);
  std::set<DomainId> keep;
  if (Status s = Select(policy, domain, edges, &keep); !s.ok()) return s;
  std::string json = "{\"domains\":[";
  const char* sep = "";
  for (const CompiledDomain& d : policy.domains()) {
    if (!keep.count(d.id)) continue;
    json += sep + std::string("{\"name\":") + JsonQuote(d.name) +
            ",\"id\":" + std::to_string(d.id) + ",\"level\":" + JsonQuote(LevelName(d.level)) +
            ",\"unconfined\":" + (d.unconfined ? "true" : "false") +
            ",\"runtime\":" + (d.runtime ? "true" : "false") + "}";
    sep = ",";
  }
  json += "],\"transitions\":[";
  sep = "";
  for (const Edge& e : edges) {
    if (!keep.count(e.from) || !keep.count(e.to)) continue;
    json += sep + std::string("{\"from\":") + JsonQuote(policy.FindDomain(e.from)->name) +
            ",\"to\":" + JsonQuote(policy.FindDomain(e.to)->name) +
            ",\"label\":" + JsonQuote(e.label) + "}";
    sep = ",";
  }
  *out += json + "]}\n";
  return Status::Ok();
}

namespace {

// First executable `name` in $PATH ("" if none), as execvp would pick it.
std::string FindOnPath(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::string path = env ? env : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(start, colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return "";
}

// The DOT text as dot's stdin: a memfd, so a dot that exits early cannot SIGPIPE us.
Status TextFd(const std::string& text, int* fd) {
  *fd = memfd_create("sptfs-graph", MFD_CLOEXEC);
  if (*fd < 0) return Status::Io(errno, "memfd_create");
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(*fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(*fd);
      return Status::Io(err, "writing the graph");
    }
    done += static_cast<size_t>(n);
  }
  lseek(*fd, 0, SEEK_SET);
  return Status::Ok();
}

}  // namespace

Status RenderSvg(const std::string& dot_text, const std::string& file) {
  std::string dot = FindOnPath("dot");
  if (dot.empty()) {
    return Status::NotFound("--svg " + file +
                            ": Graphviz is not installed (expected the `dot` program on PATH; "
                            "apt-get install graphviz, or drop --svg to get DOT text)");
  }
  int fd = -1;
  if (Status s = TextFd(dot_text, &fd); !s.ok()) return s;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, 0);
  std::vector<std::string> args = {"dot", "-Tsvg", "-o", file};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, dot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fd);
  if (rc != 0) return Status::Io(rc, "running " + dot);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Invalid("--svg " + file + ": " + dot +
                           " failed (expected it to write the SVG; see its message above)");
  }
  return Status::Ok();
}

int WriteGraphSvg(const std::string& dot_text, const std::string& file, const char* program) {
  Status s = RenderSvg(dot_text, file);
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", program, s.message().c_str());
  return s.ok() ? 0 : 1;
}

}  // namespace sptfs
