#include "sandbox_client.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "control/client.h"

namespace sptfs {
namespace {

// pidfd_open(2)'s PIDFD_THREAD (Linux 6.9): a pidfd of one thread, readable when that
// thread ends. Older kernels refuse it, and then nothing is cached.
constexpr unsigned kPidfdThread = O_EXCL;

Status Ask(const std::string& socket, const std::vector<std::string>& argv, std::string* out) {
  Reply reply;
  if (Status s = CallDaemon(socket, argv, &reply); !s.ok()) return s;
  if (reply.exit_code != 0) {
    return Status::Invalid(reply.err.empty() ? "the daemon refused " + argv[0] : reply.err);
  }
  *out = reply.out;
  return Status::Ok();
}

// The descriptor number of the seccomp listener of `pid`, or -1.
int FindListener(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  int found = -1;
  while (dirent* e = readdir(d)) {
    char target[64] = {};
    std::string link = dir + "/" + e->d_name;
    ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
    if (n > 0 && std::string(target, static_cast<size_t>(n)) == "anon_inode:seccomp notify") {
      found = std::atoi(e->d_name);
      break;
    }
  }
  closedir(d);
  return found;
}

}  // namespace

Status ControlSandboxDaemon::Call(const std::vector<std::string>& argv, Reply* reply) {
  if (!per_call_) {
    Status s = session_.Call(argv, reply);
    if (s.ok() || s.code() != Status::Code::kInvalid) return s;
    per_call_ = true;  // refused: ask per call from now on
  }
  return CallDaemon(socket_, argv, reply);
}

ControlSandboxDaemon::~ControlSandboxDaemon() { Forget(); }

void ControlSandboxDaemon::Forget() {
  for (auto& [tid, answer] : answers_) close(answer.pidfd);
  answers_.clear();
}

bool ControlSandboxDaemon::Cached(pid_t tid, SandboxRules* out) {
  auto it = answers_.find(tid);
  if (it == answers_.end()) return false;
  uint64_t session = 0, epoch = 0;
  if (!session_.Stamp(&session, &epoch) || session != it->second.session ||
      epoch != it->second.epoch) {
    Forget();  // something changed: every answer may be stale
    return false;
  }
  // One poll: has the thread ended (its id may be reused), or has the daemon ended the
  // session (restarted: its old epoch never moves again; escape test
  // test_issue17_4_kept_answers_outlive_a_daemon_restart)?
  pollfd p[2] = {{it->second.pidfd, POLLIN, 0}, {session_.fd(), POLLIN, 0}};
  int n = poll(p, 2, 0);
  if (n != 0 && (n < 0 || p[1].revents != 0)) {
    Forget();
    return false;
  }
  if (n != 0) {
    close(it->second.pidfd);
    answers_.erase(it);
    return false;
  }
  *out = it->second.rules;
  return true;
}

void ControlSandboxDaemon::Keep(pid_t tid, int pidfd, uint64_t session, uint64_t epoch,
                                const SandboxRules& rules) {
  constexpr size_t kMaxAnswers = 256;  // each holds a descriptor
  if (answers_.size() >= kMaxAnswers) Forget();
  auto [it, added] = answers_.try_emplace(tid);
  if (!added) close(it->second.pidfd);
  it->second = Answer{pidfd, session, epoch, rules};
}

int ControlSandboxDaemon::KeptPidfd(pid_t tid) {
  auto it = answers_.find(tid);
  return it == answers_.end() ? -1 : it->second.pidfd;
}

Status ControlSandboxDaemon::Lookup(pid_t tid, SandboxRules* out) {
  if (Cached(tid, out)) return Status::Ok();
  // Both before asking: an answer is kept only under what held when it was asked for.
  uint64_t session = 0, epoch = 0;
  bool stamped = session_.Stamp(&session, &epoch);
  int pidfd = stamped ? static_cast<int>(syscall(SYS_pidfd_open, tid, kPidfdThread)) : -1;
  Reply reply;
  Status s = Call({"sandbox", "query", std::to_string(tid)}, &reply);
  std::vector<SandboxRules> blocks;
  if (s.ok())
    s = reply.exit_code == 0 ? ParseSandboxRules(reply.out, &blocks) : Status::Invalid(reply.err);
  if (!s.ok()) {
    if (pidfd >= 0) close(pidfd);
    return s;
  }
  *out = blocks[0];
  if (pidfd >= 0) Keep(tid, pidfd, session, epoch, blocks[0]);
  return Status::Ok();
}

void ControlSandboxDaemon::Record(pid_t tid, const SandboxRules& domain,
                                  const SandboxRequest& request, const SandboxVerdict& verdict) {
  Reply reply;
  Call({"sandbox", "record", std::to_string(tid), std::to_string(domain.id),
        verdict.warning ? "warning" : "denied", request.syscall, verdict.asked, verdict.missing,
        std::to_string(verdict.suppressed)},
       &reply);  // a record that cannot be sent changes nothing about the verdict
}

Status ControlSandboxDaemon::MayMapExec(pid_t tid, const std::string& path, bool* allowed) {
  Reply reply;
  if (Status s = Call({"sandbox", "exec", std::to_string(tid), path}, &reply); !s.ok()) return s;
  if (reply.exit_code != 0) return Status::Invalid(reply.err);
  *allowed = reply.out.rfind("allow ", 0) == 0;
  return Status::Ok();
}

Status ExecMapScopeOf(const std::string& socket, const std::string& mount, bool root,
                      bool generic_decided, ExecMapScope* out) {
  std::string where = mount;
  if (where.empty()) {
    std::string info;
    if (Status s = Ask(socket, {"info"}, &info); !s.ok()) return s;
    size_t at = info.find("mountpoint=");
    if (at == std::string::npos) return Status::Invalid("the daemon's info has no mountpoint=");
    where = info.substr(at + 11, info.find('\n', at) - at - 11);
  }
  char real[PATH_MAX];
  struct stat st;
  if (realpath(where.c_str(), real) == nullptr || stat(real, &st) != 0) {
    return Status::Io(errno, "cannot find the mount " + where);
  }
  out->enabled = true;
  out->mount_dev = st.st_dev;
  out->prefix = root ? "" : std::string(real);
  if (out->prefix == "/") out->prefix.clear();
  out->generic_decided = generic_decided;
  return Status::Ok();
}

Status PlanFromDaemon(const std::string& socket, const std::string& domain, FilterPlan* plan,
                      std::vector<SandboxRules>* reachable) {
  Reply reply;
  if (Status s = CallDaemon(socket, {"sandbox", "domains", domain}, &reply); !s.ok()) {
    return Status::Invalid("cannot reach the sptfs daemon at " + socket + ": " + s.message());
  }
  if (reply.exit_code != 0) {
    return Status::Invalid("the daemon does not give the socket and syscall rules: " + reply.err);
  }
  const std::string& text = reply.out;
  std::vector<SandboxRules> domains;
  if (Status s = ParseSandboxRules(text, &domains); !s.ok()) return s;
  *plan = PlanFilter(domains);
  if (reachable != nullptr) *reachable = std::move(domains);
  return Status::Ok();
}

Status TakeListener(pid_t pid, int timeout_ms, int* listener) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return Status::Io(errno, "the confined world is gone");
  for (int waited = 0; waited <= timeout_ms; ++waited) {
    int fd = FindListener(pid);
    if (fd >= 0) {
      int mine = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
      close(pidfd);
      if (mine < 0) return Status::Io(errno, "cannot take the sandbox filter's listener");
      *listener = mine;
      return Status::Ok();
    }
    if (access(("/proc/" + std::to_string(pid)).c_str(), F_OK) != 0) break;
    usleep(1000);
  }
  close(pidfd);
  return Status::Io(ETIMEDOUT, "the confined world did not load its sandbox filter");
}

}  // namespace sptfs
