// ServiceNotifier: sd_notify(3)'s datagram, written here (a dozen lines) rather than
// linking libsystemd (docs/DEPENDENCIES.md).
#include "control/service_notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sptfs {

std::unique_ptr<ServiceNotifier> ServiceNotifier::FromEnvironment() {
  const char* env = getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') return nullptr;
  std::string address = env;
  unsetenv("NOTIFY_SOCKET");
  if ((address[0] != '/' && address[0] != '@') ||
      address.size() >= sizeof(sockaddr_un{}.sun_path)) {
    fprintf(stderr,
            "sptfs: warning: NOTIFY_SOCKET=%s: not a socket path or @name of at most %zu "
            "bytes; the service manager is not told of readiness\n",
            address.c_str(), sizeof(sockaddr_un{}.sun_path) - 1);
    return nullptr;
  }
  return std::make_unique<ServiceNotifier>(std::move(address));
}

Status ServiceNotifier::Send(std::string_view state) const {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, address_.data(), address_.size());
  if (address_[0] == '@') addr.sun_path[0] = '\0';  // abstract: no terminating NUL counted
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::Io(errno, "NOTIFY_SOCKET: socket");
  ssize_t n = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(state.size())) {
    return Status::Io(err, "NOTIFY_SOCKET " + address_ + ": cannot send " + std::string(state));
  }
  return Status::Ok();
}

void ServiceNotifier::Ready() const { (void)Send("READY=1\nSTATUS=serving"); }

void ServiceNotifier::Reloading() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long usec = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  (void)Send("RELOADING=1\nSTATUS=loading the policy\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::Stopping() const { (void)Send("STOPPING=1\nSTATUS=stopping"); }

}  // namespace sptfs
