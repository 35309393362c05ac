// Who is at the other end of an accepted control connection, pinned to the process.
//
//   PeerProcess peer = PeerProcess::Take(conn_fd);   // at accept
//   ... read facts about peer.pid() (its domain, its PID namespace) ...
//   if (!peer.StillHoldsPid()) { /* the facts may be another process's: unidentified */ }
//
// SO_PEERCRED gives the pid, uid and gid the kernel recorded at connect(). The pid alone
// is a number: once that process has exited and been reaped, another one can get it,
// and a connection handed to a child outlives its maker. So Take() also takes
// SO_PEERPIDFD, a pidfd for the very process that connected, which no other process can
// ever become. StillHoldsPid() is true only if that process is still alive (a zombie
// counts: its pid is not free yet) and is still pid() in the daemon's PID namespace
// (/proc/self/fdinfo of the pidfd). Facts read by pid *before* a true answer were
// therefore that process's facts. Kernels without SO_PEERPIDFD (before 6.5): the pid's
// start time, read in Take() and compared again, which cannot see a reuse that happened
// before the accept (docs/THREAT-MODEL.md).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace sptfs {

class PeerProcess {
 public:
  // Never fails: an unknown peer has pid() 0 and StillHoldsPid() false.
  static PeerProcess Take(int conn_fd);
  PeerProcess() = default;
  PeerProcess(PeerProcess&& other) noexcept;
  PeerProcess& operator=(PeerProcess&& other) noexcept;
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  ~PeerProcess();

  pid_t pid() const { return pid_; }  // 0: not visible from the daemon's PID namespace
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }
  bool pinned() const { return pidfd_ >= 0; }  // false: the start-time fallback

  bool StillHoldsPid() const;

 private:
  pid_t pid_ = 0;
  uid_t uid_ = static_cast<uid_t>(-1);
  gid_t gid_ = static_cast<gid_t>(-1);
  int pidfd_ = -1;
  uint64_t start_time_ = 0;  // field 22 of /proc/PID/stat at Take(); 0 if unread
};

// The inode of the PID namespace of `pid` (/proc/PID/ns/pid); 0 if it cannot be read.
// pid 0 means the daemon itself.
uint64_t PidNamespaceOf(pid_t pid);

}  // namespace sptfs
