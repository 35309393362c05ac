#include "sandbox/landlock_apply.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace sptfs {
namespace {

// The kernel's structures (linux/landlock.h, ABI 6), spelt out here because the build
// host's headers may be older.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));
constexpr int kRulePathBeneath = 1;
constexpr unsigned kCreateRulesetVersion = 1u << 0;

long CreateRuleset(const RulesetAttr* attr, size_t size, unsigned flags) {
  return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

HostKind KindOfMode(mode_t mode) {
  if (S_ISDIR(mode)) return HostKind::kDirectory;
  if (S_ISLNK(mode)) return HostKind::kSymlink;
  return HostKind::kOther;
}

}  // namespace

int LandlockAbi() {
  long abi = CreateRuleset(nullptr, 0, kCreateRulesetVersion);
  if (abi < 0) return 0;
  if (const char* hook = std::getenv("SPT_RUN_TEST_LANDLOCK_ABI"); hook != nullptr && *hook) {
    long pretend = std::strtol(hook, nullptr, 10);
    if (pretend >= 0 && pretend < abi) abi = pretend;
  }
  return static_cast<int>(abi);
}

HostKind RealHostView::Kind(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return HostKind::kMissing;
  return S_ISDIR(st.st_mode) ? HostKind::kDirectory : HostKind::kOther;
}

std::vector<std::pair<std::string, HostKind>> RealHostView::List(const std::string& dir) {
  std::vector<std::pair<std::string, HostKind>> out;
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return out;
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    return out;
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    out.emplace_back(name, KindOfMode(st.st_mode));
  }
  closedir(d);
  return out;
}

std::string RealHostView::Resolve(const std::string& path) {
  // Walk up to the longest prefix that exists, resolve it, put the rest back.
  std::string head = path, tail;
  while (!head.empty()) {
    char real[PATH_MAX];
    if (realpath(head.c_str(), real) != nullptr) {
      std::string out = real;
      if (!tail.empty()) out += (out == "/" ? "" : "/") + tail;
      return out;
    }
    size_t slash = head.find_last_of('/');
    if (slash == std::string::npos) break;
    std::string name = head.substr(slash + 1);
    tail = tail.empty() ? name : name + "/" + tail;
    head = slash == 0 ? (head == "/" ? "" : "/") : head.substr(0, slash);
  }
  return path;
}

Status ApplyLandlock(const LandlockPlan& plan, int abi) {
  RulesetAttr attr = {plan.handled_fs, plan.handled_net, plan.scoped};
  size_t size = abi >= 6 ? sizeof(RulesetAttr) : abi >= 4 ? 16 : 8;
  int ruleset = static_cast<int>(CreateRuleset(&attr, size, 0));
  if (ruleset < 0) return Status::Io(errno, "cannot create a Landlock ruleset");
  for (const LandlockGrant& g : plan.grants) {
    int fd = open(g.path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) continue;  // gone since the plan: nothing there to reach
    struct stat st;
    uint64_t access = g.access & plan.handled_fs;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) access &= ll::kFileRights;
    PathBeneathAttr rule = {access, fd};
    long rc = access == 0 ? 0 : syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &rule, 0);
    int err = errno;
    close(fd);
    if (rc != 0) {
      close(ruleset);
      return Status::Io(err, "cannot add the Landlock rule for " + g.path);
    }
  }
  long rc = syscall(SYS_landlock_restrict_self, ruleset, 0);
  int err = errno;
  close(ruleset);
  if (rc != 0) return Status::Io(err, "cannot restrict the world with Landlock");
  return Status::Ok();
}

}  // namespace sptfs
