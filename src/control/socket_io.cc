// Frame I/O over blocking sockets with timeouts; EINTR is retried, EAGAIN (the timeout)
// and a short read (the peer went away) become clear errors.
#include "control/socket_io.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>

#include "control/protocol.h"

namespace sptfs {
namespace {

Status ReadExactly(int fd, size_t n, std::string* out) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, out->data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
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

}  // namespace

Status SetTimeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return Status::Io(errno, "control socket: setting timeouts");
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return Status::Io(ETIMEDOUT, "control socket: peer does not read");
    }
    if (n < 0) return Status::Io(errno, "control socket: write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status ReadFrame(int fd, uint32_t max_payload, std::string* payload) {
  std::string header;
  Status s = ReadExactly(fd, kFrameHeaderBytes, &header);
  if (!s.ok()) return s;
  uint32_t length = 0;
  s = DecodeFrameHeader(header, max_payload, &length);
  if (!s.ok()) return s;
  return ReadExactly(fd, length, payload);
}

}  // namespace sptfs
