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
// file is replaced. It runs its own accept thread and one short-lived thread per
// connection (at most kMaxConnections at once; more are answered "busy").
// Each connection: one request, one reply, kConnectionTimeoutMs for each. The caller's
// identity comes from SO_PEERCRED and ctx->tracker, never from the message; commands and
// who may run them: commands.h and docs/control-protocol.md. A client that sends garbage,
// stalls or disconnects only loses its own connection.
#pragma once

#include <memory>
#include <string>

#include "control/daemon_context.h"
#include "util/status.h"

namespace sptfs {

class ControlServer {
 public:
  static constexpr int kConnectionTimeoutMs = 5000;
  static constexpr int kMaxConnections = 16;

  // `ctx` must outlive the server.
  static Status Start(const std::string& socket_path, DaemonContext* ctx,
                      std::unique_ptr<ControlServer>* out);
  virtual ~ControlServer() = default;
  // Stops accepting, cuts open connections, joins the threads, removes the socket
  // (and the --mount link). Idempotent.
  virtual void Stop() = 0;
};

}  // namespace sptfs
