#include "sandbox/supervisor.h"

#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "sandbox/syscall_classes.h"
#include "sandbox/target_process.h"

namespace sptfs {
namespace {

constexpr size_t kMaxAddress = sizeof(sockaddr_storage);
constexpr unsigned kMaxMessages = 64;  // sendmmsg: more are sent in the next call

int Nr(const char* name) { return seccomp_syscall_resolve_name(name); }

// Linux 6.6 (Debian 12's headers are 6.1): with this flag the kernel wakes the
// supervisor on the notifying thread's CPU, and the thread on the supervisor's when the
// answer is sent, instead of waking a task on another CPU each way (an inter-processor
// interrupt; in a VM, an exit to the host).
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

// The address at `addr` (`len` bytes, capped) in the caller's memory.
bool ReadAddress(pid_t tid, uint64_t addr, uint64_t len, SocketAddress* out) {
  char buf[kMaxAddress] = {};
  size_t n = len > kMaxAddress ? kMaxAddress : static_cast<size_t>(len);
  if (addr == 0 || n == 0) return false;
  if (!ReadTargetMemory(tid, addr, buf, n)) return false;
  *out = DescribeAddress(buf, n);
  return true;
}

// The socket's own family and type; falls back to the address's family. `kept_pidfd`:
// SandboxDaemon::KeptPidfd.
void FillSocket(pid_t tid, uint64_t fd, int kept_pidfd, SandboxRequest* r) {
  if (!TargetSocket(tid, static_cast<int>(fd), &r->family, &r->type, nullptr, kept_pidfd)) {
    r->family = r->address.family;
    r->type = -1;
  }
  r->type = r->type < 0 ? -1 : (r->type & 0xf);
}

// A signal to the caller itself is a generic call; only other processes need killSys.
bool SignalsItself(pid_t tid, int nr, const __u64* args) {
  TargetIds ids;
  if (!ReadTargetIds(tid, &ids)) return false;
  pid_t target = static_cast<pid_t>(args[0]);
  if (nr == Nr("tkill")) return target == ids.ns_tid;
  if (nr == Nr("tgkill") || nr == Nr("rt_tgsigqueueinfo")) return target == ids.ns_tgid;
  if (nr == Nr("kill") || nr == Nr("rt_sigqueueinfo")) return target == ids.ns_tgid;
  return false;
}

}  // namespace

bool SandboxSupervisor::IsExecMap(const seccomp_notif& n) const {
  const __u64* a = n.data.args;
  if (!exec_maps_.enabled || !(a[2] & PROT_EXEC)) return false;
  if (n.data.nr == Nr("mmap")) return !(a[3] & MAP_ANONYMOUS);
  return n.data.nr == Nr("mprotect") || n.data.nr == Nr("pkey_mprotect");
}

// One file the caller would map executable, by a /proc magic link to it: not on the
// mount: not ours (allowed); on the mount: the daemon decides `x` on its tree path.
bool SandboxSupervisor::MayMapFile(pid_t tid, const std::string& link) {
  struct stat st;
  if (stat(link.c_str(), &st) != 0) return false;
  if (st.st_dev != exec_maps_.mount_dev) return true;
  char buf[4096];
  ssize_t len = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (len <= 0) return false;
  std::string path(buf, static_cast<size_t>(len));
  const std::string& prefix = exec_maps_.prefix;
  if (!prefix.empty()) {
    if (path.compare(0, prefix.size(), prefix) != 0) return false;
    path = path.size() == prefix.size() ? "/" : path.substr(prefix.size());
  }
  if (path.empty() || path[0] != '/' || path.find(" (deleted)") != std::string::npos) {
    return false;  // not a tree path we can name: closed
  }
  bool allowed = false;
  return daemon_->MayMapExec(tid, path, &allowed).ok() && allowed;
}

// mmap(PROT_EXEC) of a descriptor: its file. mprotect(PROT_EXEC): every file mapping
// the range overlaps (/proc/TID/maps); anonymous memory (JITs) is not a file: allowed.
bool SandboxSupervisor::ExecMapAllowed(const seccomp_notif& n) {
  pid_t tid = static_cast<pid_t>(n.pid);
  const __u64* a = n.data.args;
  std::string proc = "/proc/" + std::to_string(tid);
  if (n.data.nr == Nr("mmap")) {
    std::string link = proc + "/fd/" + std::to_string(static_cast<int>(a[4]));
    struct stat st;
    if (lstat(link.c_str(), &st) != 0) return true;  // no such descriptor: the kernel says EBADF
    return MayMapFile(tid, link);
  }
  uint64_t start = a[0], end = a[0] + a[1];
  FILE* maps = std::fopen((proc + "/maps").c_str(), "re");
  if (maps == nullptr) return false;
  char line[4096];
  bool ok = true;
  while (ok && std::fgets(line, sizeof(line), maps) != nullptr) {
    unsigned long lo = 0, hi = 0, inode = 0;
    if (std::sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &inode) != 3) continue;
    if (hi <= start || lo >= end || inode == 0) continue;
    char link[128];
    std::snprintf(link, sizeof(link), "%s/map_files/%lx-%lx", proc.c_str(), lo, hi);
    ok = MayMapFile(tid, link);
  }
  std::fclose(maps);
  return ok;
}

bool SandboxSupervisor::IsLaunch(pid_t tid) const {
  TargetIds ids;
  return !launched_ && ReadTargetIds(tid, &ids) && ids.ppid == init_ && ids.tgid == tid &&
         ExeIdentity(tid) == ExeIdentity(init_) && !ExeIdentity(tid).empty();
}

// Fills the request from the notification; false if the caller's memory is unreadable.
bool SandboxSupervisor::Build(const seccomp_notif& n, SandboxRequest* r, bool* exempt) {
  const __u64* a = n.data.args;
  pid_t tid = static_cast<pid_t>(n.pid);
  r->nr = n.data.nr;
  r->syscall = SyscallName(r->nr);
  *exempt = false;
  if (r->nr == Nr("socket") || r->nr == Nr("socketpair")) {
    r->op = SocketOp::kCreate;
    r->family = static_cast<int>(a[0]);
    r->type = static_cast<int>(a[1]) & 0xf;
  } else if (r->nr == Nr("bind") || r->nr == Nr("connect")) {
    r->op = r->nr == Nr("bind") ? SocketOp::kBind : SocketOp::kConnect;
    if (!ReadAddress(tid, a[1], a[2], &r->address)) return false;
    FillSocket(tid, a[0], daemon_->KeptPidfd(tid), r);
  } else if (r->nr == Nr("sendto") && a[4] != 0) {
    r->op = SocketOp::kConnect;
    if (!ReadAddress(tid, a[4], a[5], &r->address)) return false;
    FillSocket(tid, a[0], daemon_->KeptPidfd(tid), r);
  } else if (r->nr == Nr("listen")) {
    // listen() on an unbound inet socket binds it to every address (port chosen by the
    // kernel): that is a bind to "all", whatever scope the domain's bind rule has.
    SocketAddress local;
    if (TargetSocket(tid, static_cast<int>(a[0]), &r->family, &r->type, &local) &&
        (r->family == AF_INET || r->family == AF_INET6) && local.port == 0) {
      r->op = SocketOp::kBind;
      r->type &= 0xf;
      r->address = local;
      r->address.any = true;
      r->address.loopback = false;
      r->address.text = "(unbound: every address)";
    }
  } else if (r->nr == Nr("clone") && (a[0] & CLONE_THREAD)) {
    r->syscall_class = std::string(kGenericSys);
  } else if (SignalsItself(tid, r->nr, a)) {
    r->syscall_class = std::string(kGenericSys);
  } else if (ClassOfSyscall(r->nr) == "killSys" && r->nr != Nr("pidfd_send_signal")) {
    r->detail = "pid " + std::to_string(static_cast<int32_t>(a[0]));
  } else if (r->nr == Nr("execve") && IsLaunch(tid)) {
    *exempt = true;
  }
  return true;
}

bool SandboxSupervisor::Handle(const seccomp_notif& n, bool* answer_needed) {
  *answer_needed = true;
  pid_t tid = static_cast<pid_t>(n.pid);
  if (tid == init_) return true;
  SandboxRequest request;
  bool exempt = false;
  bool readable = Build(n, &request, &exempt);
  // What we read is only trusted if the call is still pending (the caller may have been
  // killed and its pid reused while we read).
  if (seccomp_notify_id_valid(listener_, n.id) != 0) {
    *answer_needed = false;
    return false;
  }
  if (exempt) {
    launched_ = true;
    return true;
  }
  if (IsExecMap(n)) {
    bool ok = ExecMapAllowed(n);
    if (seccomp_notify_id_valid(listener_, n.id) != 0) {  // what we read may be another's
      *answer_needed = false;
      return false;
    }
    if (!ok) return false;
    // Unless generic calls are decided too, nothing else is to be decided about it.
    if (!exec_maps_.generic_decided) return true;
  }
  SandboxRules domain;
  if (!daemon_->Lookup(tid, &domain).ok()) return false;  // unknown caller: closed
  std::vector<SandboxRequest> requests = {request};
  if (readable && (request.nr == Nr("sendmsg") || request.nr == Nr("sendmmsg"))) {
    requests = MessageRequests(n, request);
    // Read after the daemon's answer: only the caller's if its call is still pending.
    if (seccomp_notify_id_valid(listener_, n.id) != 0) {
      *answer_needed = false;
      return false;
    }
  }
  bool allow = readable || domain.unconfined || domain.level == Level::kDisabled;
  for (const SandboxRequest& r : requests) {
    SandboxVerdict v = Decide(domain, r);
    if (v.record) RecordLimited(tid, domain, r, v);
    if (v.warning) ++stats_.warned;
    allow = allow && v.allow;
    if (!v.allow) break;
  }
  return allow;
}

// sendmsg/sendmmsg: one request per message that names a destination address.
std::vector<SandboxRequest> SandboxSupervisor::MessageRequests(const seccomp_notif& n,
                                                               const SandboxRequest& base) {
  const __u64* a = n.data.args;
  pid_t tid = static_cast<pid_t>(n.pid);
  bool many = base.nr == Nr("sendmmsg");
  unsigned count = many ? static_cast<unsigned>(a[2] < kMaxMessages ? a[2] : kMaxMessages) : 1;
  size_t stride = many ? sizeof(mmsghdr) : sizeof(msghdr);
  std::vector<SandboxRequest> out = {base};  // the class check, whatever the messages say
  for (unsigned i = 0; i < count; ++i) {
    msghdr m;
    SandboxRequest r = base;
    r.op = SocketOp::kConnect;
    if (!ReadTargetMemory(tid, a[1] + i * stride, &m, sizeof(m))) {
      r.address.text = "(unreadable message)";  // treated as a non-loopback destination
    } else if (m.msg_name == nullptr || m.msg_namelen == 0) {
      continue;
    } else if (!ReadAddress(tid, reinterpret_cast<uintptr_t>(m.msg_name), m.msg_namelen,
                            &r.address)) {
      r.address.text = "(unreadable address)";
    }
    FillSocket(tid, a[0], daemon_->KeptPidfd(tid), &r);
    out.push_back(r);
  }
  return out;
}

void SandboxSupervisor::RecordLimited(pid_t tid, const SandboxRules& domain,
                                      const SandboxRequest& request, SandboxVerdict verdict) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (now != window_) {
    window_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= kMaxRecordsPerSecond) {
    ++unreported_;
    ++stats_.suppressed;
    return;
  }
  ++in_window_;
  verdict.suppressed = unreported_;
  unreported_ = 0;
  daemon_->Record(tid, domain, request, verdict);
}

SandboxSupervisor::~SandboxSupervisor() {
  if (req_ != nullptr) seccomp_notify_free(req_, resp_);
}

Status SandboxSupervisor::Start() {
  if (req_ != nullptr) return Status::Ok();
  if (seccomp_notify_alloc(&req_, &resp_) != 0) {
    req_ = nullptr;
    return Status::Io(ENOMEM, "cannot allocate the seccomp notification buffers");
  }
  // Only where the two run in turn: an older kernel says EINVAL and wakes as before.
  stats_.sync_wake_up =
      ioctl(listener_, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
  return Status::Ok();
}

Status SandboxSupervisor::Run() {
  if (Status s = Start(); !s.ok()) return s;
  seccomp_notif* req = req_;
  seccomp_notif_resp* resp = resp_;
  for (;;) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return Status::Io(errno, "cannot wait for seccomp notifications");
    }
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) break;  // nobody uses the filter
    // Start() leaves req_ set or fails; the analyzer cannot see that Status::Io (status.cc)
    // is never ok.
    std::memset(req, 0, sizeof(*req));  // NOLINT(clang-analyzer-core.NonNullParamChecker)
    if (seccomp_notify_receive(listener_, req) != 0) continue;  // caller gone (ENOENT)
    bool answer = true;
    bool allow = Handle(*req, &answer);
    if (!answer) continue;
    ++(allow ? stats_.allowed : stats_.denied);
    std::memset(resp, 0, sizeof(*resp));
    resp->id = req->id;
    resp->error = allow ? 0 : -EPERM;
    resp->flags = allow ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
    seccomp_notify_respond(listener_, resp);  // fails only if the caller is gone
  }
  return Status::Ok();
}

}  // namespace sptfs
