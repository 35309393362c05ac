// The client side of the control socket, shared by spt, spt-domain, spt-label, spt-run.
//
//   Reply r;
//   Status s = CallDaemon(SocketForMount("/mnt/esx"), {"domain", "list"}, &r);
//   // s: could not talk to the daemon; else print r.out / r.err, exit r.exit_code.
//
// Where the socket is: `--socket PATH` if given; else, for `--mount DIR`, the fixed name
// SocketForMount(DIR), which the daemon creates (or links to its configured socket)
// when it starts serving. Commands: docs/control-protocol.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "control/protocol.h"
#include "control/sandbox_epoch.h"
#include "util/status.h"

namespace sptfs {

inline constexpr char kSocketDir[] = "/run/sptfs";
inline constexpr int kClientTimeoutMs = 120 * 1000;  // a reload of a big policy is slow

// "/run/sptfs/" + the absolute, symlink-free mount path with '/' replaced by '-' +
// ".sock", e.g. /mnt/esx -> /run/sptfs/-mnt-esx.sock. A path that does not exist is
// used as given (made absolute).
std::string SocketForMount(const std::string& mount_dir);

// 0 if a daemon accepts connections on `path` (a socket, or a link to one), else the
// connect errno: ECONNREFUSED (nobody listens) and ENOENT (a dangling link) mean stale.
int ConnectErrno(const std::string& path);

// The live *.sock names in kSocketDir, one per running daemon. Entries nobody answers on
// (left by a daemon killed with SIGKILL) are skipped, and removed where permitted.
std::vector<std::string> ListSockets();

// The socket a tool should use: `socket_opt` if set, else SocketForMount(mount_opt),
// else the only live socket in kSocketDir; otherwise fails with a message that says
// none runs, or lists the ones that do.
Status ChooseSocket(const std::string& socket_opt, const std::string& mount_opt,
                    std::string* socket_path);

// One request, one reply. A non-zero exit code in `reply` is the command's own answer;
// a failed Status means the daemon could not be reached or answered garbage.
Status CallDaemon(const std::string& socket_path, const std::vector<std::string>& argv,
                  Reply* reply);

// A supervisor's kept connection (`sandbox session`, docs/control-protocol.md): sandbox
// requests one after another without a connection each. Opened on the first Call, and
// once more if the daemon ended it. Not thread-safe: one caller at a time.
class ControlSession {
 public:
  explicit ControlSession(std::string socket_path) : socket_(std::move(socket_path)) {}
  ~ControlSession();
  ControlSession(const ControlSession&) = delete;
  ControlSession& operator=(const ControlSession&) = delete;
  // As CallDaemon; fails if the daemon refuses the session (the caller may then fall
  // back to CallDaemon).
  Status Call(const std::vector<std::string>& argv, Reply* reply);
  // Where the daemon's sandbox epoch (sandbox_epoch.h) stands now, with the number of
  // the session it came with (a new session is another daemon, maybe: its epoch is
  // another counter). False when there is no session yet, or its daemon shares none.
  bool Stamp(uint64_t* session, uint64_t* epoch) const;
  // The session's connection (-1 if none): readable or hung up once its daemon has
  // ended it. A daemon that ended leaves its epoch page mapped and still, so a kept
  // answer must also check this (a restarted daemon may have another policy).
  int fd() const { return fd_; }

 private:
  Status Open();
  void Close();
  const std::string socket_;
  int fd_ = -1;
  uint64_t opened_ = 0;
  std::unique_ptr<EpochView> epoch_;
};

}  // namespace sptfs
