// RunLabelTool: one pass over the FILEs (and, with -R, what is below them), each handled
// as a mounted path (through the mount's attribute and the daemon) or a backing path
// (direct attribute, offline policy).
#include "control/label_tool.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "control/client.h"
#include "labels/label_resolver.h"
#include "labels/label_xattr.h"
#include "policy/compiler.h"
#include "policy/display.h"
#include "policy/loader.h"

namespace sptfs {
namespace {

std::string Unescape(const std::string& s) {  // mountinfo writes ' ' as \040
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool Covers(const std::string& dir, const std::string& path) {
  if (dir == "/") return true;
  return path.rfind(dir, 0) == 0 && (path.size() == dir.size() || path[dir.size()] == '/');
}

// The sptfs mount that holds `real` (a symlink-free absolute path), or "".
std::string SptfsMountOf(const std::string& real) {
  std::ifstream in("/proc/self/mountinfo");
  std::string best, best_type;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    size_t sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::string type = line.substr(sep + 3, line.find(' ', sep + 3) - sep - 3);
    point = Unescape(point);
    if (Covers(point, real) && point.size() >= best.size()) {
      best = point;
      best_type = type;
    }
  }
  return best_type == "fuse.sptfs" ? best : "";
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : "";
}

class LabelRun {
 public:
  LabelRun(const LabelToolOptions& o, const char* prog) : o_(o), prog_(prog) {}

  int Run() {
    for (const std::string& f : o_.files) {
      if (o_.recursive) {
        Walk(f);
      } else {
        One(f);
      }
    }
    if (shown_progress_) std::fprintf(stderr, "\r%s: %zu files\n", prog_, walked_);
    if (o_.json) std::printf("[%s]\n", json_.c_str());
    return failed_ ? 1 : 0;
  }

 private:
  struct Daemon {
    std::string socket;
    std::string xattr;
    bool ok = false;
    bool asked = false;  // the daemon answered "info"; false: labels go straight to the mount
  };

  void Error(const std::string& msg) {
    std::fprintf(stderr, "%s: %s\n", prog_, msg.c_str());
    failed_ = true;
  }

  // FILE itself, then everything below it; symlinks are neither followed nor labelled.
  void Walk(const std::string& top) {
    namespace stdfs = std::filesystem;
    One(top);
    std::error_code ec;
    if (!stdfs::is_directory(stdfs::symlink_status(top, ec))) return;
    stdfs::recursive_directory_iterator it(top, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (!it->is_symlink(ec)) One(it->path().string());
      Progress();
    }
    if (ec) Error(top + ": " + ec.message());
  }

  // Long walks show that they move, but only to a person: never into a pipe or a log.
  void Progress() {
    if (++walked_ % 1000 != 0 || !isatty(STDERR_FILENO)) return;
    std::fprintf(stderr, "\r%s: %zu files", prog_, walked_);
    shown_progress_ = true;
  }

  // `computed`: the label is not stored but computed by the mount from default-labels
  // (a read-only map's file); said after the label, or as "source" in --json.
  void Print(const std::string& path, const std::string& label, bool computed = false) {
    if (o_.json) {
      if (!json_.empty()) json_ += ",";
      json_ += "{\"path\":" + JsonQuote(path) + ",\"label\":" + JsonQuote(label);
      if (computed) json_ += ",\"source\":\"computed\"";
      json_ += "}";
      return;
    }
    std::string shown = computed ? label + " " + kComputedNote : label;
    if (o_.files.size() == 1 && !o_.recursive && o_.mode == LabelMode::kGet) {
      std::printf("%s\n", shown.c_str());
    } else {
      std::printf("%s: %s\n", path.c_str(), shown.c_str());
    }
  }

  static constexpr const char* kComputedNote = "(computed: default-labels, read-only map)";

  // Through the mount: the label FILE carries (stored, or computed on a read-only map)
  // and whether it is computed; false (reported) if it cannot be read.
  bool MountedLabel(const std::string& path, const std::string& xattr, std::string* label,
                    bool* computed) {
    char buf[512];
    ssize_t n = getxattr(path.c_str(), xattr.c_str(), buf, sizeof(buf));
    if (n < 0 && errno != ENODATA) {
      Error(path + ": reading the label: " + std::strerror(errno));
      return false;
    }
    *label = n < 0 ? std::string(kUnlabeledName) : std::string(buf, static_cast<size_t>(n));
    n = getxattr(path.c_str(), LabelSourceXattr(xattr).c_str(), buf, sizeof(buf));
    *computed = n > 0 && std::string(buf, static_cast<size_t>(n)) == kLabelSourceComputed;
    return true;
  }

  void One(const std::string& path) {
    std::string real = RealPath(path);
    if (real.empty()) return Error(path + ": " + std::strerror(errno));
    std::string mount = SptfsMountOf(real);
    if (!mount.empty()) return Mounted(path, real, mount);
    Backing(path, real);
  }

  Daemon* DaemonFor(const std::string& mount) {
    auto [it, fresh] = daemons_.try_emplace(mount);
    Daemon& d = it->second;
    if (!fresh) return d.ok ? &d : nullptr;
    d.socket = !o_.socket.empty() ? o_.socket : SocketForMount(o_.mount.empty() ? mount : o_.mount);
    Reply r;
    Status s = CallDaemon(d.socket, {"info"}, &r);
    if (!s.ok() && o_.mode != LabelMode::kRestore) {
      // A caller confined to a domain without sockets cannot ask, yet the mount itself
      // decides get and set: go through it with the default attribute name, so the
      // answer is the daemon's own (e.g. the file_relabel refusal), not "socket: EPERM".
      d.xattr = DefaultLabelXattr();
      d.ok = true;
      return &d;
    }
    if (!s.ok() || r.exit_code != 0) {
      Error(mount + ": cannot ask the sptfs daemon: " + (s.ok() ? r.err : s.message()));
      return nullptr;
    }
    size_t at = r.out.find("label_xattr=");
    if (at != std::string::npos) d.xattr = r.out.substr(at + 12, r.out.find('\n', at) - at - 12);
    if (d.xattr.empty()) d.xattr = DefaultLabelXattr();
    d.ok = d.asked = true;
    return &d;
  }

  // Asks the daemon; "" on failure (reported).
  std::string Ask(Daemon* d, const std::vector<std::string>& argv) {
    Reply r;
    Status s = CallDaemon(d->socket, argv, &r);
    if (!s.ok()) return Error(s.message()), "";
    if (r.exit_code != 0) {
      std::string err = r.err;
      while (!err.empty() && err.back() == '\n') err.pop_back();
      return Error(err), "";
    }
    return r.out.empty() ? "ok" : r.out;
  }

  void Mounted(const std::string& path, const std::string& real, const std::string& mount) {
    Daemon* d = DaemonFor(mount);
    if (!d) return;
    if (o_.mode == LabelMode::kGet) {
      std::string label;
      bool computed = false;
      if (!MountedLabel(path, d->xattr, &label, &computed)) return;
      if (computed) return Print(path, label, true);
      if (label == kUnlabeledName) return Print(path, label);
      return ShowRaw(path, d->xattr, RawLabel{true, label});
    }
    std::string label = o_.label;
    if (o_.mode == LabelMode::kRestore) {
      std::string tree_path = real.size() == mount.size() ? "/" : real.substr(mount.size());
      label = Ask(d, {"label", "default", tree_path});
      if (label.empty()) return;
      label.pop_back();  // the newline
    } else if (d->asked && checked_.insert(label).second &&
               Ask(d, {"label", "check", label}).empty()) {
      failed_label_ = label;
    }
    if (label == failed_label_) return;
    SetThroughMount(path, d->xattr, label);
  }

  void SetThroughMount(const std::string& path, const std::string& xattr,
                       const std::string& label) {
    int rc = label == kUnlabeledName
                 ? removexattr(path.c_str(), xattr.c_str())
                 : setxattr(path.c_str(), xattr.c_str(), label.data(), label.size(), 0);
    if (rc != 0 && errno == EROFS && o_.mode == LabelMode::kRestore) {
      return ReadOnlyRestore(path, xattr, label);
    }
    if (rc != 0 && !(errno == ENODATA && label == kUnlabeledName)) {
      std::string why = std::strerror(errno);
      if (errno == EPERM) why += " (the daemon refused: relabelling needs capability file_relabel)";
      return Error(path + ": setting label " + label + ": " + why);
    }
    if (o_.mode == LabelMode::kRestore) Print(path, label);
  }

  // --restore of a file the mount cannot relabel (a read-only map): done if the label it
  // carries already is the default one, which is what the mount computes for a file
  // without the attribute; an error only if a stored, different label stays in the way.
  void ReadOnlyRestore(const std::string& path, const std::string& xattr,
                       const std::string& label) {
    std::string has;
    bool computed = false;
    if (!MountedLabel(path, xattr, &has, &computed)) return;
    if (has == label) return Print(path, label, computed);
    Error(path + ": setting label " + label + ": " + std::strerror(EROFS) +
          " (a read-only map: the file keeps its stored label " + has +
          "; expected no label attribute on the backing file, or the map writable)");
  }

  const CompiledPolicy* Offline() {
    if (policy_ || policy_failed_) return policy_.get();
    policy_failed_ = true;
    if (o_.policy_dir.empty()) {
      Error("checking a label on a backing path needs the policy (expected --policy DIR)");
      return nullptr;
    }
    PolicySet set;
    std::vector<std::string> warnings;
    std::unique_ptr<TreeView> tree;
    if (o_.root.empty()) {
      tree = std::make_unique<LiteralTree>();
    } else {
      tree = std::make_unique<DiskTree>(o_.root);
    }
    Status s = LoadPolicySet(o_.policy_dir, &set);
    if (s.ok()) s = Compile(set, *tree, 1, &policy_, &warnings);
    if (!s.ok()) return Error(s.message()), nullptr;
    policy_failed_ = false;
    return policy_.get();
  }

  void Backing(const std::string& path, const std::string& real) {
    std::string xattr = o_.xattr.empty() ? DefaultLabelXattr() : o_.xattr;
    if (o_.mode == LabelMode::kGet) return BackingGet(path, xattr);
    const CompiledPolicy* policy = Offline();
    if (!policy) return;
    std::string label = o_.label;
    if (o_.mode == LabelMode::kRestore) {
      std::string root = o_.root.empty() ? "" : RealPath(o_.root);
      if (!root.empty() && !Covers(root, real)) {
        return Error(path + ": not under --root " + o_.root);
      }
      std::string tree_path = root.empty() || root == "/" ? real : real.substr(root.size());
      if (tree_path.empty()) tree_path = "/";
      label = std::string(policy->LabelName(policy->DefaultLabelFor(tree_path)));
      if (label.empty()) label = std::string(kUnlabeledName);
    } else if (!policy->FindLabel(label)) {
      return Error("unknown label \"" + label + "\" (expected a label from spt -l)");
    }
    Status s = label == kUnlabeledName ? RemoveLabel(path, xattr, true)
                                       : WriteLabel(path, xattr, true, label);
    if (!s.ok()) return Error(s.message());
    if (o_.mode == LabelMode::kRestore) Print(path, label);
  }

  void BackingGet(const std::string& path, const std::string& xattr) {
    RawLabel raw;
    Status s = ReadLabel(path, xattr, true, &raw);
    if (!s.ok()) return Error(s.message());
    ShowRaw(path, xattr, raw);
  }

  // Garbage in the attribute is shown as the error label, never as unlabeled.
  void ShowRaw(const std::string& path, const std::string& xattr, const RawLabel& raw) {
    if (!raw.present) return Print(path, std::string(kUnlabeledName));
    if (!IsLabelText(raw.value)) {
      Print(path, std::string(kInvalidLabelName));
      return Error(path + ": the label attribute " + xattr + " holds " +
                   std::to_string(raw.value.size()) + " bytes that are not a label name");
    }
    Print(path, raw.value);
  }

  const LabelToolOptions& o_;
  const char* prog_;
  bool failed_ = false;
  size_t walked_ = 0;
  bool shown_progress_ = false;
  std::string json_;  // --json: the array's elements so far
  std::map<std::string, Daemon> daemons_;
  std::set<std::string> checked_;
  std::string failed_label_ = "\n";  // a name no label has
  std::shared_ptr<const CompiledPolicy> policy_;
  bool policy_failed_ = false;
};

}  // namespace

int RunLabelTool(const LabelToolOptions& options, const char* prog) {
  if (options.files.empty()) {
    std::fprintf(stderr, "%s: no FILE given\n", prog);
    return 2;
  }
  if (options.mode == LabelMode::kSet && options.label.empty()) {
    std::fprintf(stderr, "%s: -s needs -L LABEL\n", prog);
    return 2;
  }
  LabelRun run(options, prog);
  return run.Run();
}

}  // namespace sptfs
