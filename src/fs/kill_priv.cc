#include "fs/kill_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace sptfs {
namespace {

constexpr int kCapFsetid = 4;  // linux/capability.h
constexpr int kMaxGroups = 64;
constexpr char kCapsXattr[] = "security.capability";

std::string ProcFd(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Whether thread `tid` is in the daemon's user namespace. The kernel asks for CAP_FSETID
// in the initial namespace (capable()); a thread's status shows its effective set in
// its own namespace, which is every capability in one it made itself, mapping 0 to 0.
bool InOurUserNs(pid_t tid) {
  static const struct stat ours = [] {
    struct stat st {};
    if (stat("/proc/self/ns/user", &st) != 0) st.st_ino = 0;
    return st;
  }();
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/user", static_cast<int>(tid));
  struct stat st;
  return ours.st_ino != 0 && stat(path, &st) == 0 && st.st_ino == ours.st_ino &&
         st.st_dev == ours.st_dev;
}

// Whether the caller (a uid-0 thread `tid`) has CAP_FSETID in its effective set, in the
// daemon's user namespace; false when that cannot be told (the thread is gone, or no
// pid came with the request).
bool Uid0HasFsetid(pid_t tid) {
  if (tid <= 0 || !InOurUserNs(tid)) return false;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/status", static_cast<int>(tid));
  FILE* f = fopen(path, "re");
  if (!f) return false;
  char line[256];
  unsigned long long eff = 0;
  bool found = false;
  while (!found && fgets(line, sizeof(line), f)) {
    found = sscanf(line, "CapEff: %llx", &eff) == 1;
  }
  fclose(f);
  return found && ((eff >> kCapFsetid) & 1);
}

bool CallerInGroup(fuse_req_t req, gid_t gid) {
  if (fuse_req_ctx(req)->gid == gid) return true;
  gid_t groups[kMaxGroups];
  int n = fuse_req_getgroups(req, kMaxGroups, groups);
  for (int i = 0; i < n && i < kMaxGroups; ++i) {
    if (groups[i] == gid) return true;
  }
  return false;
}

// The set-id bits a write by the caller of `req` clears from `st`.
mode_t KilledByWrite(fuse_req_t req, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return 0;
  mode_t kill = st.st_mode & S_ISUID;
  if ((st.st_mode & S_ISGID) && ((st.st_mode & S_IXGRP) || !CallerInGroup(req, st.st_gid))) {
    kill |= S_ISGID;
  }
  if (!kill) return 0;
  const fuse_ctx* ctx = fuse_req_ctx(req);
  if (ctx->uid == 0 && Uid0HasFsetid(ctx->pid)) return 0;
  return kill;
}

int ChmodFd(int fd, bool path_fd, mode_t mode) {
  int rc = path_fd ? chmod(ProcFd(fd).c_str(), mode) : fchmod(fd, mode);
  return rc == 0 ? 0 : errno;
}

// ENODATA (none there) and ENOTSUP (the backing store keeps no such attributes) are
// the answers of a file with no capability. A daemon that is not root may not remove
// one (EPERM, before the kernel even looks: CAP_SETFCAP) and does not try: its own write
// removes it on the backing store, as any write does.
int RemoveCaps(int fd, bool path_fd) {
  if (geteuid() != 0) return 0;
  int rc = path_fd ? removexattr(ProcFd(fd).c_str(), kCapsXattr) : fremovexattr(fd, kCapsXattr);
  if (rc == 0 || errno == ENODATA || errno == ENOTSUP) return 0;
  return errno;
}

}  // namespace

int KillPrivBeforeWrite(fuse_req_t req, int fd, bool path_fd) {
  struct stat st;
  int rc = path_fd ? fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) : fstat(fd, &st);
  if (rc != 0) return errno;
  if (!S_ISREG(st.st_mode)) return 0;
  if (mode_t kill = KilledByWrite(req, st)) {
    // A daemon that is not root may not own the file (EPERM); it lacks CAP_FSETID, so
    // the backing store clears the bits at its write anyway.
    int err = ChmodFd(fd, path_fd, st.st_mode & 07777 & ~kill);
    if (err && !(err == EPERM && geteuid() != 0)) return err;
  }
  return RemoveCaps(fd, path_fd);
}

int KillPrivAfterChown(int fd) {
  struct stat st;
  if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return errno;
  if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) return 0;  // symlinks: no modes, no xattrs
  mode_t kill = st.st_mode & S_ISUID;
  if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) kill |= S_ISGID;
  if (!kill) return 0;
  int err = ChmodFd(fd, true, st.st_mode & 07777 & ~kill);
  return err == EPERM && geteuid() != 0 ? 0 : err;  // the backing chown has cleared them
}

}  // namespace sptfs
