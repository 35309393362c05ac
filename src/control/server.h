// The daemon side of the control socket.
//
//   std::unique_ptr<ControlServer> server;
//   Status s = ControlServer::Start(socket_path, &ctx, &server);  // after the mount is up
//   ...
//   server->Stop();  // or just destroy it; before `ctx` goes away
//
// Start() binds a Unix stream socket at `socket_path` (mode 0666: who may do what is
// decided per request from the peer's credentials), and, when ctx->mountpoint is set
// and differs, a symlink at SocketForMount(ctx->mountpoint) so tools find it by
// `--mount`. It fails if another daemon already answers on the path; a stale socket
// file is replaced. It runs its own accept thread and one thread per connection served.
//
// Each connection: one request, one reply; except a supervisor's session: after
// `sandbox session` (a caller that may place processes) the connection stays and serves
// `sandbox` requests one after another, outside the admission slots (at most
// ControlLimits::sessions of them), so a confined program's notified calls do not pay
// for a connection each and cannot be starved by callers that hold the slots. The caller is
// identified when the connection is accepted (SO_PEERCRED + SO_PEERPIDFD, peer_identity.h) and its
// domain decided then through ctx->tracker, never from the message; it must still be the same live
// process when its request has been read, else it is unidentified. The whole request must arrive
// within ControlLimits::request_deadline_ms of the start of its service, the whole reply be taken
// within reply_deadline_ms. Slots, reserved slots, per-uid and per-world limits and the queue:
// admission.h (a queued connection waits up to queue_wait_ms, then gets "busy", exit 75). Commands
// and who may run them: commands.h and docs/control-protocol.md. A client that sends garbage,
// stalls or disconnects only loses its own connection.
#pragma once

#include <memory>
#include <string>

#include "control/admission.h"
#include "control/daemon_context.h"
#include "util/status.h"

namespace sptfs {

struct ControlLimits {
  AdmissionLimits admission;
  int request_deadline_ms = 5000;
  int reply_deadline_ms = 10000;
  int queue_wait_ms = 10000;
  int sessions = 256;  // kept supervisor connections (one per spt-run world)
};

class ControlServer {
 public:
  // `ctx` must outlive the server.
  static Status Start(const std::string& socket_path, DaemonContext* ctx,
                      std::unique_ptr<ControlServer>* out);
  // The same with other limits (tests).
  static Status Start(const std::string& socket_path, DaemonContext* ctx,
                      const ControlLimits& limits, std::unique_ptr<ControlServer>* out);
  virtual ~ControlServer() = default;
  // Stops accepting, cuts open connections, joins the threads, removes the socket
  // (and the --mount link). Idempotent.
  virtual void Stop() = 0;
};

}  // namespace sptfs
