// open, create: the two ops that make a file handle (fi->fh is the backing data fd). They
// are where r/w/x is mediated for data, and where an exec-open moves the caller into the
// domain its -d rule names.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "fs/caller_creds.h"
#include "fs/kill_priv.h"
#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

constexpr int kExecFlag = 0x20;  // the kernel's __FMODE_EXEC, as FUSE passes it in open flags

// Read/write/exec asked for by open flags.
Perms OpenPerms(int flags) {
  if (flags & kExecFlag) return kPermExec;
  Perms p = kPermNone;
  int acc = flags & O_ACCMODE;
  if (acc == O_RDONLY || acc == O_RDWR) p |= kPermRead;
  if (acc == O_WRONLY || acc == O_RDWR || (flags & (O_TRUNC | O_APPEND))) p |= kPermWrite;
  return p;
}

bool WantsWrite(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND | O_CREAT));
}

// Backing open flags for kernel open flags: no creation flags, no exec bit, and with the
// writeback cache the kernel may read pages of a write-only file and appends by itself.
int BackingFlags(const SptFs& fs, int flags) {
  flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW | kExecFlag);
  if (fs.options().writeback) {
    if ((flags & O_ACCMODE) == O_WRONLY) flags = (flags & ~O_ACCMODE) | O_RDWR;
    flags &= ~O_APPEND;
  }
  return flags | O_CLOEXEC;
}

void SetOpenReply(const SptFs& fs, fuse_file_info* fi, int fd) {
  fi->fh = static_cast<uint64_t>(fd);
  fi->keep_cache = fs.options().timeout > 0;  // pages stay valid while attributes do
  // Writes go straight to the backing file and locks are the kernel's, so a flush on
  // close has nothing to do: skip its round trip (the kernel still flushes its own
  // writeback cache first when that is on).
  fi->noflush = 1;
}

// What an exec-open of `node` (FUSE node `ino`) must end up running for a transition:
// the file itself, or for a "#!" script the interpreter its first line names, parsed as
// the kernel does (the first 256 bytes; the path ends at a blank or the line's end).
ExecTarget ExecTargetOf(SptFs& fs, fuse_ino_t ino, int fd) {
  ExecTarget t;
  char buf[256];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  if (n >= 2 && buf[0] == '#' && buf[1] == '!') {
    std::string_view line(buf + 2, static_cast<size_t>(n) - 2);
    line = line.substr(0, line.find('\n'));
    size_t begin = line.find_first_not_of(" \t");
    if (begin == std::string_view::npos) begin = line.size();
    line.remove_prefix(begin);
    t.interpreter = std::string(line.substr(0, line.find_first_of(" \t")));
    if (t.interpreter.empty()) t.interpreter = "(none)";  // never resolves: refused
    return t;
  }
  t.dev = fs.checker().mount_dev();
  t.node = ino;
  return t;
}

// After an O_TRUNC open of an existing file (`fd`): the set-id bits and capability the
// truncate cost the caller. The backing store has cleared them at a truncate by a
// caller it saw without CAP_FSETID (any uid but 0); a uid-0 caller truncates there as
// root, so for one without CAP_FSETID the daemon clears them here, after the truncate
// (the caller's write permission is checked by that open; the file is empty meanwhile,
// so nothing changed can run with the old rights). Closes `fd` on failure.
int KillPrivAfterTrunc(fuse_req_t req, int flags, int fd) {
  if (!(flags & O_TRUNC)) return 0;
  int err = KillPrivBeforeWrite(req, fd, false);
  if (err) close(fd);
  return err;
}

// The backing open of an existing file. An O_TRUNC open (the kernel sends it whole:
// atomic_o_trunc) truncates as the caller, so the backing store checks the caller's
// write permission and clears set-id bits as for that caller (then KillPrivAfterTrunc).
int OpenBacking(fuse_req_t req, SptFs& fs, const Inode* node, int flags, int* fd) {
  if (!(flags & O_TRUNC)) return fs.table().OpenData(node, BackingFlags(fs, flags), fd);
  int err;
  {
    CallerCreds as_caller(req);
    err = fs.table().OpenData(node, BackingFlags(fs, flags), fd);
  }
  return err ? err : KillPrivAfterTrunc(req, flags, *fd);
}

}  // namespace

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  if (node->is_virtual()) {
    fuse_reply_err(req, EISDIR);
    return;
  }
  if (node->read_only && WantsWrite(fi->flags)) {
    fuse_reply_err(req, EROFS);
    return;
  }
  if (int err = fs.table().VerifyPlace(node)) {  // moved behind the mount: not its old path
    fuse_reply_err(req, err);
    return;
  }
  Subject s;
  fs.checker().Begin(req, &s);
  bool exec = fi->flags & kExecFlag;
  ResolvedLabel label;
  if (!s.free || (exec && s.domain)) {
    label = fs.checker().LabelOf(*s.policy, node, fs.table());
    if (int err = fs.checker().Check(s, fs.table().PathOf(node), label, OpenPerms(fi->flags),
                                     exec ? "exec" : "open")) {
      fuse_reply_err(req, err);
      return;
    }
  }
  uint64_t world;
  if (int err = fs.AcquireHandle(s, &world)) {
    fuse_reply_err(req, err);
    return;
  }
  int fd;
  if (int err = OpenBacking(req, fs, node, fi->flags, &fd)) {
    fs.budget().Release(world);
    fuse_reply_err(req, err);
    return;
  }
  fs.budget().Bind(fd, world);
  if (exec && s.domain) fs.checker().AfterExec(s, label, ExecTargetOf(fs, ino, fd));
  SetOpenReply(fs, fi, fd);
  if (fuse_reply_open(req, fi) != 0) CloseHandle(fs, fd);
}

// The kernel sends CREATE when its cache says the name is free, which can be stale (a
// racing thread, or the backing store changed behind the mount). The backing call then
// never follows a symlink (O_EXCL, O_NOFOLLOW: the daemon is not chrooted, so a host
// path would be reached) and an existing file is opened under its own label and
// mediation, never relabelled.
int CreateOrOpenBacking(fuse_req_t req, SptFs& fs, const Subject& s, Inode* parent,
                        const char* name, mode_t mode, int flags, bool* made,
                        ResolvedLabel* label) {
  std::string path = fs.table().PathOf(parent, name);
  struct stat st;
  *made = fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0;
  if (!*made && (flags & O_EXCL)) return -EEXIST;
  int err = *made ? CheckNew(fs, s, path, OpenPerms(flags), "create", label) : 0;
  if (!err && *made) err = CheckSetid(fs, s, path, *label, mode, 0, "create");
  if (!*made && !s.free) {
    *label = fs.checker().LabelAt(*s.policy, parent->fd, name);
    err = fs.checker().Check(s, path, *label, OpenPerms(flags), "open");
  }
  if (err) return -err;
  CallerUmask caller_umask(req);
  if (caller_umask.error()) return -caller_umask.error();
  int fd;
  {
    CallerCreds as_caller(req);
    int extra = *made ? (O_CREAT | O_EXCL) : O_NOFOLLOW;
    fd = openat(parent->fd, name, BackingFlags(fs, flags) | extra, mode);
    if (fd < 0) return -errno;
  }
  if (*made) return fd;
  int kill_err = KillPrivAfterTrunc(req, flags, fd);  // an existing file's O_TRUNC
  return kill_err ? -kill_err : fd;
}

void OpCreate(fuse_req_t req, fuse_ino_t parent_ino, const char* name, mode_t mode,
              fuse_file_info* fi) {
  SptFs& fs = Fs(req);
  Inode* parent = ChangeableParent(req, parent_ino, name);
  if (!parent) return;
  Subject s;
  fs.checker().Begin(req, &s);
  bool made = false;
  ResolvedLabel label;
  uint64_t world;
  if (int err = fs.AcquireHandle(s, &world)) {
    fuse_reply_err(req, err);
    return;
  }
  int fd = CreateOrOpenBacking(req, fs, s, parent, name, mode, fi->flags, &made, &label);
  if (fd < 0) {
    fs.budget().Release(world);
    fuse_reply_err(req, -fd);
    return;
  }
  fs.budget().Bind(fd, world);
  fuse_entry_param e;
  int err = DoLookup(fs, parent, name, &e);
  if (!err && made) {
    Inode* node = fs.table().Get(e.ino);
    err = LabelNew(fs, node, fd, label);
    if (err) {
      fs.table().Forget(node, 1);     // the kernel never hears of this node
      unlinkat(parent->fd, name, 0);  // an unlabelled new file would widen access
    }
  }
  if (err) {
    CloseHandle(fs, fd);
    fuse_reply_err(req, err);
    return;
  }
  SetOpenReply(fs, fi, fd);
  if (fuse_reply_create(req, &e, fi) != 0) {  // interrupted: no handle and no lookup
    CloseHandle(fs, fd);
    fs.table().Forget(fs.table().Get(e.ino), 1);
  }
}

}  // namespace sptfs::ops
