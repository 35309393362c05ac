// The daemon's state for a service manager (systemd Type=notify, the sd_notify(3)
// protocol): one datagram per change to the Unix socket named by $NOTIFY_SOCKET, a path,
// or an abstract name when it starts with '@'. No libsystemd: the protocol is a line of
// text in a datagram, and a missing or dead manager must never stop the daemon, so every
// send is best effort and never blocks.
//
//   auto notifier = ServiceNotifier::FromEnvironment();  // nullptr without NOTIFY_SOCKET
//   notifier->Ready();       // the mount is live
//   notifier->Reloading();   // around a policy load (spt -p, spt -r), then Ready()
//   notifier->Stopping();    // shutdown begins
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sptfs {

class ServiceNotifier {
 public:
  // Reads and unsets NOTIFY_SOCKET (programs the daemon starts must not talk for it).
  // nullptr when it is unset or empty; a malformed value is reported on stderr once.
  static std::unique_ptr<ServiceNotifier> FromEnvironment();
  explicit ServiceNotifier(std::string address) : address_(std::move(address)) {}

  // Sends `state` ("READY=1", "STATUS=...", several lines allowed) as one datagram.
  Status Send(std::string_view state) const;
  void Ready() const;
  void Reloading() const;  // RELOADING=1 with MONOTONIC_USEC, as systemd 253+ wants
  void Stopping() const;

 private:
  std::string address_;
};

}  // namespace sptfs
