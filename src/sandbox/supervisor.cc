#include "sandbox/supervisor.h"

#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "sandbox/syscall_classes.h"
#include "sandbox/target_process.h"

namespace sptfs {
namespace {

constexpr size_t kMaxAddress = sizeof(sockaddr_storage);
constexpr unsigned kMaxMessages = 64;  // sendmmsg: more are sent in the next call

int Nr(const char* name) { return seccomp_syscall_resolve_name(name); }

// The address at `addr` (`len` bytes, capped) in the caller's memory.
bool ReadAddress(pid_t tid, uint64_t addr, uint64_t len, SocketAddress* out) {
  char buf[kMaxAddress] = {};
  size_t n = len > kMaxAddress ? kMaxAddress : static_cast<size_t>(len);
  if (addr == 0 || n == 0) return false;
  if (!ReadTargetMemory(tid, addr, buf, n)) return false;
  *out = DescribeAddress(buf, n);
  return true;
}

// The socket's own family and type; falls back to the address's family.
void FillSocket(pid_t tid, uint64_t fd, SandboxRequest* r) {
  if (!TargetSocket(tid, static_cast<int>(fd), &r->family, &r->type)) {
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
    FillSocket(tid, a[0], r);
  } else if (r->nr == Nr("sendto") && a[4] != 0) {
    r->op = SocketOp::kConnect;
    if (!ReadAddress(tid, a[4], a[5], &r->address)) return false;
    FillSocket(tid, a[0], r);
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
  SandboxRules domain;
  if (!daemon_->Lookup(tid, &domain).ok()) return false;  // unknown caller: closed
  std::vector<SandboxRequest> requests = {request};
  if (readable && (request.nr == Nr("sendmsg") || request.nr == Nr("sendmmsg"))) {
    requests = MessageRequests(n, request);
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
    FillSocket(tid, a[0], &r);
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
    std::memset(req, 0, sizeof(*req));
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
