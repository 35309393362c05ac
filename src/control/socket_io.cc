// Frame I/O over blocking sockets; EINTR is retried, a timeout and a short read (the
// peer went away) become clear errors. With a deadline, each recv/send is preceded by a
// poll() for the time that is left, so the deadline holds for the frame as a whole.
#include "control/socket_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "control/protocol.h"

namespace sptfs {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until `fd` has `events` or the deadline passes (then false).
bool WaitUntil(int fd, short events, Deadline deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(left > 60000 ? 60000 : left));
    if (n > 0) return true;  // ready, or an error/hangup that recv/send will report
    if (n < 0 && errno != EINTR) return true;
  }
}

Status ReadExactly(int fd, size_t n, std::optional<Deadline> deadline, std::string* out) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    if (deadline && !WaitUntil(fd, POLLIN, *deadline)) {
      return Status::Io(ETIMEDOUT, "control socket: the request did not arrive in time");
    }
    ssize_t r = recv(fd, out->data() + got, n - got, deadline ? MSG_DONTWAIT : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && deadline && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return Status::Io(ETIMEDOUT, "control socket: peer sent nothing in time");
    }
    if (r < 0) return Status::Io(errno, "control socket: read");
    if (r == 0) {
      return Status::Io(ECONNRESET, got == 0 && n == kFrameHeaderBytes
                                        ? "control socket: peer closed the connection"
                                        : "control socket: peer closed mid-message");
    }
    got += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status Write(int fd, std::string_view data, std::optional<Deadline> deadline) {
  while (!data.empty()) {
    if (deadline && !WaitUntil(fd, POLLOUT, *deadline)) {
      return Status::Io(ETIMEDOUT, "control socket: peer does not read (deadline passed)");
    }
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | (deadline ? MSG_DONTWAIT : 0));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && deadline && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return Status::Io(ETIMEDOUT, "control socket: peer does not read");
    }
    if (n < 0) return Status::Io(errno, "control socket: write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status Read(int fd, uint32_t max_payload, std::optional<Deadline> deadline, std::string* payload) {
  std::string header;
  Status s = ReadExactly(fd, kFrameHeaderBytes, deadline, &header);
  if (!s.ok()) return s;
  uint32_t length = 0;
  s = DecodeFrameHeader(header, max_payload, &length);
  if (!s.ok()) return s;
  return ReadExactly(fd, length, deadline, payload);
}

}  // namespace

Status SetTimeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return Status::Io(errno, "control socket: setting timeouts");
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data) { return Write(fd, data, std::nullopt); }

Status WriteAllBy(int fd, std::string_view data, Deadline deadline) {
  return Write(fd, data, deadline);
}

Status ReadFrame(int fd, uint32_t max_payload, std::string* payload) {
  return Read(fd, max_payload, std::nullopt, payload);
}

Status ReadFrameBy(int fd, uint32_t max_payload, Deadline deadline, std::string* payload) {
  return Read(fd, max_payload, deadline, payload);
}

Status SendFdByte(int fd, int pass_fd, Deadline deadline) {
  char byte = pass_fd >= 0 ? 'F' : 'N';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (pass_fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  for (;;) {
    if (!WaitUntil(fd, POLLOUT, deadline)) {
      return Status::Io(ETIMEDOUT, "control socket: peer does not read (deadline passed)");
    }
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == 1) return Status::Ok();
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    return Status::Io(errno, "control socket: sending a descriptor");
  }
}

Status RecvFdByte(int fd, int* passed) {
  *passed = -1;
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::Io(errno, "control socket: receiving a descriptor");
  if (n == 0) return Status::Io(ECONNRESET, "control socket: peer closed the connection");
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int))) {
      std::memcpy(passed, CMSG_DATA(c), sizeof(int));
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) || (byte == 'F') != (*passed >= 0)) {
    if (*passed >= 0) close(*passed);
    *passed = -1;
    return Status::Invalid("control socket: a bad descriptor message");
  }
  return Status::Ok();
}

}  // namespace sptfs
