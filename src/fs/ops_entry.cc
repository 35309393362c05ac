// lookup, forget(_multi), getattr, setattr, readlink: the ops on an inode the kernel
// already names. Only setattr changes anything, so only it asks the policy (w).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>

#include "fs/caller_creds.h"
#include "fs/kill_priv.h"
#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

// The changes of one setattr, in the order chown would otherwise undo (mode last but
// one: a chown clears set-id bits).
int ApplySetattr(fuse_req_t req, const InodeTable& table, const Inode* node,
                 const struct stat* attr, int to_set, fuse_file_info* fi) {
  int fd = fi ? static_cast<int>(fi->fh) : -1;
  PathFd pf(table, node);
  if (pf.error()) return pf.error();
  if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : static_cast<uid_t>(-1);
    gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : static_cast<gid_t>(-1);
    if (fchownat(pf.fd(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return errno;
    if (int err = KillPrivAfterChown(pf.fd())) return err;  // HANDLE_KILLPRIV: ours to do
  }
  if (to_set & FUSE_SET_ATTR_MODE) {
    // As the caller: the backing store then drops a setgid bit for a group the caller is
    // not in, as it would for the caller itself (the daemon, as root, keeps it). A mode
    // change that only clears set-id bits (a kernel without HANDLE_KILLPRIV sends one
    // after a write or truncate by a non-owner) is the kernel's, for anyone: as the daemon.
    struct stat now;
    constexpr mode_t kSetid = S_ISUID | S_ISGID;
    bool kills_setid_only = fstatat(pf.fd(), "", &now, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
                            (now.st_mode & kSetid) != 0 &&
                            (attr->st_mode & 07777) == (now.st_mode & 07777 & ~kSetid);
    std::optional<CallerCreds> as_caller;
    if (!kills_setid_only) as_caller.emplace(req);
    int rc = fd >= 0 ? fchmod(fd, attr->st_mode) : chmod(ProcPath(pf.fd()).c_str(), attr->st_mode);
    if (rc != 0) return errno;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    if (int err =
            fd >= 0 ? KillPrivBeforeWrite(req, fd, false) : KillPrivBeforeWrite(req, pf.fd(), true))
      return err;
    int rc =
        fd >= 0 ? ftruncate(fd, attr->st_size) : truncate(ProcPath(pf.fd()).c_str(), attr->st_size);
    if (rc != 0) return errno;
  }
  if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
    struct timespec tv[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (to_set & FUSE_SET_ATTR_ATIME_NOW)
      tv[0].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_ATIME)
      tv[0] = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW)
      tv[1].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_MTIME)
      tv[1] = attr->st_mtim;
    int rc = fd >= 0 ? futimens(fd, tv) : utimensat(pf.fd(), "", tv, AT_EMPTY_PATH);
    if (rc != 0) return errno;
  }
  return 0;
}

// Test hook (tests/integration/fs/test_workers.py): with SPTFS_TEST_STALL_LOOKUP=NAME, a
// lookup of NAME holds its worker until NAME.go exists beside it (at most 30 s): a
// request that takes long, on demand.
void StallForTest(const Inode* parent, const char* name) {
  static const char* stall = getenv("SPTFS_TEST_STALL_LOOKUP");
  if (stall == nullptr || strcmp(name, stall) != 0 || parent->is_virtual()) return;
  std::string go = std::string(name) + ".go";
  struct stat st;
  for (int i = 0; i < 3000 && fstatat(parent->fd, go.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0; ++i) {
    usleep(10000);
  }
}

}  // namespace

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  StallForTest(Node(req, parent), name);
  fuse_entry_param e;
  // A directory moved behind the mount answers ESTALE (docs/sptfs.md), so nothing below
  // it is ever found, and judged, under its old path.
  int err = Fs(req).table().VerifyPlace(Node(req, parent));
  if (!err) err = DoLookup(Fs(req), Node(req, parent), name, &e);
  if (err == ENOENT && Fs(req).options().timeout > 0) {
    fuse_reply_entry(req, &e);  // negative entry: saves the next lookup of a missing name
    return;
  }
  ReplyEntryOrErr(req, err, e);
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  SptFs& fs = Fs(req);
  fs.table().Forget(Node(req, ino), nlookup);
  fuse_reply_none(req);
  fs.TrimIfWanted();
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  SptFs& fs = Fs(req);
  fs.table().Forget(forgets, count);
  fuse_reply_none(req);
  fs.TrimIfWanted();
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  struct stat st;
  // fstat of an open file (even one unlinked meanwhile) comes with its handle.
  if (fi && fstat(static_cast<int>(fi->fh), &st) == 0) {
    fuse_reply_attr(req, &st, Fs(req).options().timeout);
    return;
  }
  if (int err = StatNode(Fs(req).table(), Node(req, ino), &st)) {
    fuse_reply_err(req, err);
    return;
  }
  fuse_reply_attr(req, &st, Fs(req).options().timeout);
}

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  if (node->is_virtual() || node->read_only) {
    fuse_reply_err(req, EROFS);
    return;
  }
  Subject s;
  fs.checker().Begin(req, &s);
  if (!s.free) {
    ResolvedLabel label = fs.checker().LabelOf(*s.policy, node, fs.table());
    std::string path = fs.table().PathOf(node);
    int err = fs.checker().Check(s, path, label, kPermWrite, "setattr");
    struct stat now;
    if (!err && (to_set & FUSE_SET_ATTR_MODE)) {
      err = StatNode(fs.table(), node, &now);
      if (!err) err = CheckSetid(fs, s, path, label, attr->st_mode, now.st_mode, "chmod");
    }
    if (err) {
      fuse_reply_err(req, err);
      return;
    }
  }
  int err = ApplySetattr(req, fs.table(), node, attr, to_set, fi);
  struct stat st;
  if (!err) err = StatNode(fs.table(), node, &st);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_attr(req, &st, fs.options().timeout);
  }
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  if (const Inode* node = Node(req, ino); node->is_virtual_link()) {
    fuse_reply_readlink(req, Fs(req).table().LinkTarget(node).c_str());  // a map of a host symlink
    return;
  }
  char buf[PATH_MAX + 1];
  PathFd pf(Fs(req).table(), Node(req, ino));
  if (pf.error()) {
    fuse_reply_err(req, pf.error());
    return;
  }
  ssize_t n = readlinkat(pf.fd(), "", buf, sizeof(buf));
  if (n < 0) {
    fuse_reply_err(req, errno);
  } else if (n >= static_cast<ssize_t>(sizeof(buf))) {
    fuse_reply_err(req, ENAMETOOLONG);
  } else {
    buf[n] = '\0';
    fuse_reply_readlink(req, buf);
  }
}

}  // namespace sptfs::ops
