#include "domains/proc_events.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sptfs {
namespace {

constexpr size_t kCnHeader = 20;  // struct cn_msg without its data
constexpr int kQueueBytes = 8 << 20;

template <typename T>
T At(const char* base, size_t offset) {
  T v;
  memcpy(&v, base + offset, sizeof v);
  return v;
}

// Tells the kernel to start (or stop) sending process events to `fd`.
bool Subscribe(int fd, bool on) {
  char buf[NLMSG_SPACE(kCnHeader + sizeof(uint32_t))] = {};
  auto* nl = reinterpret_cast<nlmsghdr*>(buf);
  nl->nlmsg_len = NLMSG_LENGTH(kCnHeader + sizeof(uint32_t));
  nl->nlmsg_type = NLMSG_DONE;
  nl->nlmsg_pid = 0;
  char* cn = buf + NLMSG_HDRLEN;
  uint32_t idx = CN_IDX_PROC, val = CN_VAL_PROC,
           op = on ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE;
  uint16_t len = sizeof op;
  memcpy(cn, &idx, 4);
  memcpy(cn + 4, &val, 4);
  memcpy(cn + 16, &len, 2);
  memcpy(cn + kCnHeader, &op, sizeof op);
  return send(fd, buf, nl->nlmsg_len, 0) == static_cast<ssize_t>(nl->nlmsg_len);
}

}  // namespace

std::unique_ptr<ProcEvents> ProcEvents::Open() {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0) return nullptr;
  sockaddr_nl addr = {};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  int size = kQueueBytes;
  if (const char* env = getenv("SPTFS_PROC_EVENTS_QUEUE")) {
    long v = strtol(env, nullptr, 10);
    if (v > 0 && v <= (1L << 30)) size = static_cast<int>(v);
  }
  // A large queue: events of the whole machine wait here between two requests.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || !Subscribe(fd, true)) {
    close(fd);
    return nullptr;
  }
  return std::unique_ptr<ProcEvents>(new ProcEvents(fd));
}

ProcEvents::~ProcEvents() {
  Subscribe(fd_, false);
  close(fd_);
}

void ProcEvents::Drain(const std::function<void(const ProcEvent&)>& sink) {
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == ENOBUFS) {
        lost_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (errno == EINTR) continue;
      return;  // EAGAIN: nothing more queued
    }
    int left = static_cast<int>(n);
    for (auto* nl = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nl, left);
         nl = NLMSG_NEXT(nl, left)) {
      const char* ev = static_cast<const char*>(NLMSG_DATA(nl)) + kCnHeader;
      if (nl->nlmsg_len < NLMSG_LENGTH(kCnHeader + 32)) continue;
      // struct proc_event: what, cpu, timestamp_ns, then the event's pids.
      uint32_t what = At<uint32_t>(ev, 0);
      ProcEvent e;
      // Every other event starts with the thread's pid and tgid.
      pid_t tid = At<pid_t>(ev, 16), tgid = At<pid_t>(ev, 20);
      switch (what) {
        case proc_event::PROC_EVENT_FORK: {
          pid_t child_pid = At<pid_t>(ev, 24), child_tgid = At<pid_t>(ev, 28);
          e = child_pid != child_tgid
                  ? ProcEvent{ProcEvent::Kind::kThread, child_tgid, 0, child_pid}
                  : ProcEvent{ProcEvent::Kind::kFork, child_pid, At<pid_t>(ev, 20), child_pid};
          break;
        }
        case proc_event::PROC_EVENT_EXEC:
          e = {ProcEvent::Kind::kExec, tgid, 0, tgid};
          break;
        case proc_event::PROC_EVENT_EXIT:
          // The event's own ids say which thread ended: never what /proc shows later.
          e = {tid == tgid ? ProcEvent::Kind::kExit : ProcEvent::Kind::kThreadExit, tgid, 0, tid};
          break;
        case proc_event::PROC_EVENT_COMM:
        case proc_event::PROC_EVENT_UID:
        case proc_event::PROC_EVENT_GID:
          e = {ProcEvent::Kind::kChanged, tgid, 0, tid};
          break;
        default:
          continue;
      }
      sink(e);
    }
  }
}

}  // namespace sptfs
