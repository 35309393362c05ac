#include "sandbox/target_process.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sptfs {
namespace {

// The last number on a "Key:\t1\t2" line of /proc/PID/status (innermost namespace).
pid_t LastNumber(const std::string& line) {
  std::istringstream in(line.substr(line.find(':') + 1));
  long v = 0, last = 0;
  while (in >> v) last = v;
  return static_cast<pid_t>(last);
}

pid_t FirstNumber(const std::string& line) {
  return static_cast<pid_t>(std::strtol(line.c_str() + line.find(':') + 1, nullptr, 10));
}

// A pidfd whose descriptor table is thread `tid`'s: of the thread itself where the
// kernel has PIDFD_THREAD (6.9), one system call; else of its thread group, found in
// /proc/TID/status.
int PidfdOfThread(pid_t tid) {
  constexpr unsigned kPidfdThread = O_EXCL;  // PIDFD_THREAD
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, tid, kPidfdThread));
  if (pidfd >= 0 || errno != EINVAL) return pidfd;
  TargetIds ids;
  if (!ReadTargetIds(tid, &ids)) return -1;
  return static_cast<int>(syscall(SYS_pidfd_open, ids.tgid, 0));
}

}  // namespace

bool ReadTargetMemory(pid_t tid, uint64_t addr, void* buf, size_t len) {
  iovec local{buf, len};
  iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), len};
  return process_vm_readv(tid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

bool TargetSocket(pid_t tid, int fd, int* family, int* type, SocketAddress* local, int kept_pidfd) {
  // A kept pidfd of an ended thread says ESRCH (its tid may be another's now): then
  // one of the thread that has it now.
  int sock = kept_pidfd < 0 ? -1 : static_cast<int>(syscall(SYS_pidfd_getfd, kept_pidfd, fd, 0));
  if (sock < 0 && (kept_pidfd < 0 || errno == ESRCH)) {
    int pidfd = PidfdOfThread(tid);
    if (pidfd < 0) return false;
    sock = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
    close(pidfd);
  }
  if (sock < 0) return false;
  socklen_t l1 = sizeof(*family), l2 = sizeof(*type);
  bool ok = getsockopt(sock, SOL_SOCKET, SO_DOMAIN, family, &l1) == 0 &&
            getsockopt(sock, SOL_SOCKET, SO_TYPE, type, &l2) == 0;
  if (ok && local != nullptr) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    ok = getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    if (ok) *local = DescribeAddress(&addr, len);
  }
  close(sock);
  return ok;
}

bool ReadTargetIds(pid_t tid, TargetIds* out) {
  std::ifstream in("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  TargetIds ids;
  while (std::getline(in, line)) {
    if (line.rfind("Tgid:", 0) == 0) ids.tgid = FirstNumber(line);
    if (line.rfind("PPid:", 0) == 0) ids.ppid = FirstNumber(line);
    if (line.rfind("NStgid:", 0) == 0) ids.ns_tgid = LastNumber(line);
    if (line.rfind("NSpid:", 0) == 0) ids.ns_tid = LastNumber(line);
  }
  if (ids.tgid <= 0) return false;
  *out = ids;
  return true;
}

std::string ExeIdentity(pid_t pid) {
  struct stat st;
  if (stat(("/proc/" + std::to_string(pid) + "/exe").c_str(), &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

}  // namespace sptfs
