#include "domains/proc_events.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace sptfs {
namespace {

constexpr int kQueueBytes = 8 << 20;
// The smallest event we read: the header of struct proc_event and a fork's four pids.
constexpr size_t kMinEvent =
    offsetof(proc_event, event_data.fork.child_tgid) + sizeof(__kernel_pid_t);

// Tells the kernel to start (or stop) sending process events to `fd`.
bool Subscribe(int fd, bool on) {
  alignas(nlmsghdr) char buf[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
  auto* nl = reinterpret_cast<nlmsghdr*>(buf);
  nl->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
  nl->nlmsg_type = NLMSG_DONE;
  nl->nlmsg_pid = 0;
  auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  proc_cn_mcast_op op = on ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE;
  cn->len = sizeof op;
  memcpy(cn->data, &op, sizeof op);
  return send(fd, buf, nl->nlmsg_len, 0) == static_cast<ssize_t>(nl->nlmsg_len);
}

// NLMSG_OK(nl, left), with the macro's int-to-unsigned comparison written out (clang
// -Wsign-compare flags it in the macro); `left` is positive by then.
bool MessageFits(const nlmsghdr* nl, int left) {
  return left >= static_cast<int>(sizeof(nlmsghdr)) && nl->nlmsg_len >= sizeof(nlmsghdr) &&
         nl->nlmsg_len <= static_cast<unsigned>(left);
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

bool ProcEvents::Wait(int stop_fd) const {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    int n = poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    // An error of the socket (POLLERR: ENOBUFS, events lost) is for Drain to read.
    return n > 0 && fds[1].revents == 0;
  }
}

void ProcEvents::Drain(const std::function<void(const ProcEvent&)>& sink, uint64_t until_ns,
                       size_t max) {
  alignas(nlmsghdr) char buf[16384];
  bool past = false;
  for (size_t handed = 0; handed < max;) {
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
    for (auto* nl = reinterpret_cast<nlmsghdr*>(buf); MessageFits(nl, left);
         nl = NLMSG_NEXT(nl, left)) {
      if (nl->nlmsg_len < NLMSG_LENGTH(sizeof(cn_msg) + kMinEvent)) continue;
      const auto* cn = static_cast<const cn_msg*>(NLMSG_DATA(nl));
      // Copied out: the payload has no alignment guarantee, and an older kernel's event
      // may be shorter than this header's struct (the rest stays zero).
      size_t have = std::min<size_t>(nl->nlmsg_len - NLMSG_LENGTH(sizeof(cn_msg)), cn->len);
      proc_event ev;
      memset(&ev, 0, sizeof ev);
      memcpy(&ev, cn->data, std::min(have, sizeof ev));
      ProcEvent e;
      // Every event but fork starts with the thread's pid and tgid (exec's layout).
      pid_t tid = ev.event_data.exec.process_pid, tgid = ev.event_data.exec.process_tgid;
      switch (ev.what) {
        case proc_event::PROC_EVENT_FORK: {
          const auto& f = ev.event_data.fork;
          e = f.child_pid != f.child_tgid
                  ? ProcEvent{ProcEvent::Kind::kThread, f.child_tgid, 0, f.child_pid}
                  : ProcEvent{ProcEvent::Kind::kFork, f.child_pid, f.parent_tgid, f.child_pid};
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
      e.time_ns = ev.timestamp_ns;
      sink(e);
      ++handed;
      past |= until_ns != 0 && e.time_ns > until_ns;
    }
    if (past) return;  // at the end of a datagram: nothing read is left unhanded
  }
}

}  // namespace sptfs
