// PeerProcess: SO_PEERCRED + SO_PEERPIDFD at accept, liveness through the pidfd.
#include "control/peer_identity.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; the C library's headers may predate it
#endif

namespace sptfs {
namespace {

// Field 22 of /proc/PID/stat (start time in clock ticks) and the state; 0 if unreadable.
uint64_t StartTime(pid_t pid, char* state) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');  // the command name may hold ')' and spaces
  if (close == std::string::npos) return 0;
  unsigned long long start = 0;
  char st = 0;
  int n = std::sscanf(stat.c_str() + close + 1,
                      " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d "
                      "%llu",
                      &st, &start);
  if (n != 2) return 0;
  if (state) *state = st;
  return start;
}

// The "Pid:" line of the pidfd's fdinfo: the process's pid in our namespace, -1 once it
// has been reaped; 0 if unreadable.
long PidOfPidfd(int pidfd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(pidfd));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Pid:", 0) == 0) return std::strtol(line.c_str() + 4, nullptr, 10);
  }
  return 0;
}

}  // namespace

PeerProcess PeerProcess::Take(int conn_fd) {
  PeerProcess p;
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(conn_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return p;
  p.pid_ = cred.pid;
  p.uid_ = cred.uid;
  p.gid_ = cred.gid;
  if (p.pid_ <= 0) return p;
  int pidfd = -1;
  len = sizeof(pidfd);
  if (getsockopt(conn_fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0) {
    p.pidfd_ = pidfd;
    fcntl(pidfd, F_SETFD, FD_CLOEXEC);  // the kernel sets it; be sure
  } else if (errno == ENOPROTOOPT || errno == EINVAL) {
    p.start_time_ = StartTime(p.pid_, nullptr);  // old kernel: the weaker fallback
  }
  // Any other error (EMFILE, ESRCH: gone already): neither, so StillHoldsPid() is false.
  return p;
}

PeerProcess::PeerProcess(PeerProcess&& other) noexcept { *this = std::move(other); }

PeerProcess& PeerProcess::operator=(PeerProcess&& other) noexcept {
  if (this != &other) {
    if (pidfd_ >= 0) close(pidfd_);
    pid_ = other.pid_;
    uid_ = other.uid_;
    gid_ = other.gid_;
    pidfd_ = std::exchange(other.pidfd_, -1);
    start_time_ = other.start_time_;
  }
  return *this;
}

PeerProcess::~PeerProcess() {
  if (pidfd_ >= 0) close(pidfd_);
}

bool PeerProcess::StillHoldsPid() const {
  if (pid_ <= 0) return false;
  if (pidfd_ >= 0) {
    // Signal 0 checks existence only; EPERM still means the process exists.
    if (syscall(SYS_pidfd_send_signal, pidfd_, 0, nullptr, 0) != 0 && errno != EPERM) {
      return false;
    }
    return PidOfPidfd(pidfd_) == pid_;
  }
  if (start_time_ == 0) return false;
  char state = 0;
  return StartTime(pid_, &state) == start_time_ && state != 'Z';
}

uint64_t PidNamespaceOf(pid_t pid) {
  std::string path = pid > 0 ? "/proc/" + std::to_string(pid) + "/ns/pid" : "/proc/self/ns/pid";
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace sptfs
