// Operations in the spirit of libfuse's passthrough_hp: every backing access is relative
// to an O_PATH fd (no PATH_MAX limit, no path races), data moves by splice, and the
// kernel caches entries, attributes and pages for `timeout` seconds. Each mediated
// operation asks AccessChecker first; see DESIGN.md "What is mediated".
#include "fs/sptfs_ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fs/caller_creds.h"

namespace sptfs {
namespace {

constexpr int kExecFlag = 0x20;  // the kernel's __FMODE_EXEC, as FUSE passes it in open flags

SptFs& Fs(fuse_req_t req) { return *static_cast<SptFs*>(fuse_req_userdata(req)); }
Inode* Node(fuse_req_t req, fuse_ino_t ino) { return Fs(req).table().Get(ino); }
std::string ProcPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

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

// A virtual directory's attributes: root-owned, read-only, timestamps of the mount.
void VirtualStat(const Inode* node, struct stat* st) {
  static const time_t kMounted = time(nullptr);
  memset(st, 0, sizeof(*st));
  st->st_ino = reinterpret_cast<uintptr_t>(node) & 0xffffffffu;
  st->st_mode = S_IFDIR | 0755;
  st->st_nlink = 2 + node->overlay.size();
  st->st_blksize = 4096;
  st->st_atime = st->st_mtime = st->st_ctime = kMounted;
}

int StatNode(const InodeTable& table, const Inode* node, struct stat* st) {
  if (node->is_virtual()) {
    VirtualStat(node, st);
    return 0;
  }
  return table.Stat(node, st);
}

// Why a change under `parent` cannot happen at all (before any policy check), or 0.
int CannotChange(const Inode* parent, const char* name) {
  if (parent->is_virtual() || parent->read_only) return EROFS;
  if (name && parent->overlay.count(name)) return EBUSY;  // a map point
  return 0;
}

void FillEntry(SptFs& fs, Inode* node, const struct stat& st, fuse_entry_param* e) {
  memset(e, 0, sizeof(*e));
  e->ino = fs.table().IdOf(node);
  e->attr = st;
  e->attr_timeout = fs.options().timeout;
  e->entry_timeout = fs.options().timeout;
}

// Looks `name` up under `parent` and counts one kernel lookup. ENOENT leaves e->ino 0
// (a negative entry the kernel may cache).
int DoLookup(SptFs& fs, Inode* parent, const char* name, fuse_entry_param* e) {
  if (Inode* pinned = fs.table().Overlay(parent, name)) {
    struct stat st;
    if (int err = StatNode(fs.table(), pinned, &st)) return err;
    fs.table().Ref(pinned);
    FillEntry(fs, pinned, st, e);
    return 0;
  }
  memset(e, 0, sizeof(*e));
  e->entry_timeout = fs.options().timeout;
  if (parent->is_virtual()) return ENOENT;
  // One fstatat for a plain file; an O_PATH fd only for what the table keeps fds of.
  struct stat st;
  if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  int fd = -1;
  if (fs.table().WantsFd(st)) {
    fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno;
    if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;
      close(fd);
      return err;
    }
  }
  Inode* node = fs.table().Found(parent, name, fd, st);
  FillEntry(fs, node, st, e);
  return 0;
}

void ReplyEntryOrErr(fuse_req_t req, int err, const fuse_entry_param& e) {
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_entry(req, &e);
  }
}

// The label a new object at `path` gets, and whether the caller may make it.
int CheckNew(SptFs& fs, const Subject& s, const std::string& path, Perms perms, const char* op,
             ResolvedLabel* label) {
  *label = ResolvedLabel{};
  if (s.policy) {
    label->id = s.policy->DefaultLabelFor(path);
    label->name = label->id == kUnlabeledId ? kUnlabeledName : s.policy->LabelName(label->id);
  }
  return fs.checker().Check(s, path, *label, perms | kPermWrite, op);
}

// Writes the default label on a new object (as the daemon, after CallerCreds ended) and
// drops any cached label of a recycled inode number.
void LabelNew(SptFs& fs, const Inode* node, int data_fd, const ResolvedLabel& label) {
  fs.checker().LabelChanged(node);
  if (label.id == kUnlabeledId || node->is_virtual()) return;
  std::string name(label.name);
  const std::string& attr = fs.checker().label_xattr();
  if (data_fd >= 0) {
    fsetxattr(data_fd, attr.c_str(), name.data(), name.size(), 0);
  } else {
    PathFd pf(fs.table(), node);  // symlinks refuse user.* attributes: best effort
    if (!pf.error()) WriteLabelFd(pf.fd(), attr, name);
  }
}

}  // namespace

namespace {

void OpInit(void* userdata, fuse_conn_info* conn) {
  auto* fs = static_cast<SptFs*>(userdata);
  // Data goes through the daemon (no kernel passthrough before libfuse 3.17): splice it
  // and ask for the largest requests the kernel allows.
  if (conn->capable & FUSE_CAP_SPLICE_WRITE) conn->want |= FUSE_CAP_SPLICE_WRITE;
  if (conn->capable & FUSE_CAP_SPLICE_MOVE) conn->want |= FUSE_CAP_SPLICE_MOVE;
  if (conn->capable & FUSE_CAP_SPLICE_READ) conn->want |= FUSE_CAP_SPLICE_READ;
  if (fs->options().writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE)) {
    conn->want |= FUSE_CAP_WRITEBACK_CACHE;
  }
  // Locks are left to the kernel (local to this machine, which is all a mount here sees).
  conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
  conn->max_write = 1 << 20;
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fuse_entry_param e;
  int err = DoLookup(Fs(req), Node(req, parent), name, &e);
  if (err == ENOENT && Fs(req).options().timeout > 0) {
    fuse_reply_entry(req, &e);  // negative entry: saves the next lookup of a missing name
    return;
  }
  ReplyEntryOrErr(req, err, e);
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Fs(req).table().Forget(Node(req, ino), nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) {
    Fs(req).table().Forget(Node(req, forgets[i].ino), forgets[i].nlookup);
  }
  fuse_reply_none(req);
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

// The changes of one setattr, in the order chown would otherwise undo (mode last but
// one: a chown clears set-id bits).
int ApplySetattr(const InodeTable& table, const Inode* node, const struct stat* attr, int to_set,
                 fuse_file_info* fi) {
  int fd = fi ? static_cast<int>(fi->fh) : -1;
  PathFd pf(table, node);
  if (pf.error()) return pf.error();
  if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : static_cast<uid_t>(-1);
    gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : static_cast<gid_t>(-1);
    if (fchownat(pf.fd(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return errno;
  }
  if (to_set & FUSE_SET_ATTR_MODE) {
    int rc = fd >= 0 ? fchmod(fd, attr->st_mode) : chmod(ProcPath(pf.fd()).c_str(), attr->st_mode);
    if (rc != 0) return errno;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
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
    if (int err = fs.checker().Check(s, fs.table().PathOf(node), label, kPermWrite, "setattr")) {
      fuse_reply_err(req, err);
      return;
    }
  }
  int err = ApplySetattr(fs.table(), node, attr, to_set, fi);
  struct stat st;
  if (!err) err = StatNode(fs.table(), node, &st);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_attr(req, &st, fs.options().timeout);
  }
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
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

// mknod, mkdir and symlink: check, make as the caller, label, look up.
enum class Make { kNode, kDir, kSymlink };

void MakeEntry(fuse_req_t req, fuse_ino_t parent_ino, const char* name, Make what, mode_t mode,
               dev_t rdev, const char* target) {
  SptFs& fs = Fs(req);
  Inode* parent = Node(req, parent_ino);
  if (int err = CannotChange(parent, name)) {
    fuse_reply_err(req, err);
    return;
  }
  static const char* kOps[] = {"mknod", "mkdir", "symlink"};
  Subject s;
  fs.checker().Begin(req, &s);
  ResolvedLabel label;
  std::string path = fs.table().PathOf(parent, name);
  if (int err = CheckNew(fs, s, path, kPermWrite, kOps[static_cast<int>(what)], &label)) {
    fuse_reply_err(req, err);
    return;
  }
  int rc;
  {
    CallerCreds as_caller(req);
    if (what == Make::kDir)
      rc = mkdirat(parent->fd, name, mode);
    else if (what == Make::kSymlink)
      rc = symlinkat(target, parent->fd, name);
    else
      rc = mknodat(parent->fd, name, mode, rdev);
  }
  if (rc != 0) {
    fuse_reply_err(req, errno);
    return;
  }
  fuse_entry_param e;
  int err = DoLookup(fs, parent, name, &e);
  if (!err) LabelNew(fs, fs.table().Get(e.ino), -1, label);
  ReplyEntryOrErr(req, err, e);
}

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  MakeEntry(req, parent, name, Make::kNode, mode, rdev, nullptr);
}
void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  MakeEntry(req, parent, name, Make::kDir, mode, 0, nullptr);
}
void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  MakeEntry(req, parent, name, Make::kSymlink, 0, 0, target);
}

// unlink and rmdir: w on the object that goes away.
void Remove(fuse_req_t req, fuse_ino_t parent_ino, const char* name, bool dir) {
  SptFs& fs = Fs(req);
  Inode* parent = Node(req, parent_ino);
  if (int err = CannotChange(parent, name)) {
    fuse_reply_err(req, err);
    return;
  }
  Subject s;
  fs.checker().Begin(req, &s);
  if (!s.free) {
    ResolvedLabel label = fs.checker().LabelAt(*s.policy, parent->fd, name);
    if (int err = fs.checker().Check(s, fs.table().PathOf(parent, name), label, kPermWrite,
                                     dir ? "rmdir" : "unlink")) {
      fuse_reply_err(req, err);
      return;
    }
  }
  if (!dir) fs.table().KeepBeforeUnlink(parent, name);  // it may still be open
  int rc = unlinkat(parent->fd, name, dir ? AT_REMOVEDIR : 0);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Remove(req, parent, name, false);
}
void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Remove(req, parent, name, true);
}

}  // namespace

namespace {

// Both ends of a rename: the moving object needs w where it is and where it goes, and
// may not be granted more where it goes (the link subset rule: else a rename out of a
// write-only directory into a readable one would read it); an object it replaces needs
// w; with RENAME_EXCHANGE the other object moves too, under the same rules.
int CheckRename(SptFs& fs, const Subject& s, Inode* from, const char* name, Inode* to,
                const char* newname, unsigned flags) {
  if (s.free) return 0;
  AccessChecker& ck = fs.checker();
  std::string src = fs.table().PathOf(from, name);
  std::string dst = fs.table().PathOf(to, newname);
  ResolvedLabel moving = ck.LabelAt(*s.policy, from->fd, name);
  Decision at_dst;
  if (int err = ck.Check(s, src, moving, kPermWrite, "rename")) return err;
  if (int err = ck.Check(s, dst, moving, kPermWrite, "rename", &at_dst)) return err;
  if (int err = ck.CheckNoWidening(s, moving, src, dst, at_dst, "rename")) return err;
  struct stat st;
  if (fstatat(to->fd, newname, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;  // nothing there
  ResolvedLabel other = ck.LabelAt(*s.policy, to->fd, newname);
  if (int err = ck.Check(s, dst, other, kPermWrite, "rename")) return err;
  if (!(flags & RENAME_EXCHANGE)) return 0;
  Decision at_src;
  if (int err = ck.Check(s, src, other, kPermWrite, "rename", &at_src)) return err;
  return ck.CheckNoWidening(s, other, dst, src, at_src, "rename");
}

void NoteMoved(SptFs& fs, Inode* parent, const char* name) {
  struct stat st;
  if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    fs.table().Moved(parent->map, st.st_dev, st.st_ino, parent, name);
  }
}

void OpRename(fuse_req_t req, fuse_ino_t parent_ino, const char* name, fuse_ino_t newparent_ino,
              const char* newname, unsigned int flags) {
  SptFs& fs = Fs(req);
  Inode* from = Node(req, parent_ino);
  Inode* to = Node(req, newparent_ino);
  int err = CannotChange(from, name);
  if (!err) err = CannotChange(to, newname);
  if (!err && from->map != to->map) err = EXDEV;
  if (!err && (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))) err = EINVAL;
  Subject s;
  if (!err) {
    fs.checker().Begin(req, &s);
    err = CheckRename(fs, s, from, name, to, newname, flags);
  }
  if (!err && !(flags & RENAME_EXCHANGE)) fs.table().KeepBeforeUnlink(to, newname);  // replaced
  if (!err && renameat2(from->fd, name, to->fd, newname, flags) != 0) err = errno;
  if (!err) {
    NoteMoved(fs, to, newname);  // the moved node keeps its label and gets its new path
    if (flags & RENAME_EXCHANGE) NoteMoved(fs, from, name);
  }
  fuse_reply_err(req, err);
}

// link: w on the new name, and the new name may not grant more than the old one
// (AppArmor's link subset rule), else a link would widen access to the same inode.
int CheckLink(SptFs& fs, const Subject& s, Inode* node, const std::string& newpath) {
  if (s.free) return 0;
  AccessChecker& ck = fs.checker();
  ResolvedLabel label = ck.LabelOf(*s.policy, node, fs.table());
  Decision now;
  if (int err = ck.Check(s, newpath, label, kPermWrite, "link", &now)) return err;
  return ck.CheckNoWidening(s, label, fs.table().PathOf(node), newpath, now, "link");
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_ino, const char* newname) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  Inode* to = Node(req, newparent_ino);
  int err = CannotChange(to, newname);
  if (!err && node->is_virtual()) err = EPERM;
  if (!err && node->map != to->map) err = EXDEV;
  Subject s;
  if (!err) {
    fs.checker().Begin(req, &s);
    err = CheckLink(fs, s, node, fs.table().PathOf(to, newname));
  }
  if (!err) {
    PathFd pf(fs.table(), node);
    CallerCreds as_caller(req);
    if (pf.error()) {
      err = pf.error();
    } else if (linkat(AT_FDCWD, ProcPath(pf.fd()).c_str(), to->fd, newname, AT_SYMLINK_FOLLOW)) {
      err = errno;
    }
  }
  fuse_entry_param e;
  if (!err) err = DoLookup(fs, to, newname, &e);  // fresh attributes: the link count moved
  ReplyEntryOrErr(req, err, e);
}

}  // namespace

namespace {

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

// The inode number the kernel will show as the new program of an exec-open of `node`,
// or 0 for a "#!" script (its interpreter becomes the program, not the script).
uint64_t ExecInode(const Inode* node, int fd) {
  char magic[2] = {0, 0};
  if (pread(fd, magic, sizeof magic, 0) == 2 && magic[0] == '#' && magic[1] == '!') return 0;
  return node->ino;
}

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
  int fd;
  if (int err = fs.table().OpenData(node, BackingFlags(fs, fi->flags), &fd)) {
    fuse_reply_err(req, err);
    return;
  }
  if (exec && s.domain) fs.checker().AfterExec(s, label, ExecInode(node, fd));
  SetOpenReply(fs, fi, fd);
  if (fuse_reply_open(req, fi) != 0) close(fd);
}

void OpCreate(fuse_req_t req, fuse_ino_t parent_ino, const char* name, mode_t mode,
              fuse_file_info* fi) {
  SptFs& fs = Fs(req);
  Inode* parent = Node(req, parent_ino);
  if (int err = CannotChange(parent, name)) {
    fuse_reply_err(req, err);
    return;
  }
  Subject s;
  fs.checker().Begin(req, &s);
  ResolvedLabel label;
  std::string path = fs.table().PathOf(parent, name);
  if (int err = CheckNew(fs, s, path, OpenPerms(fi->flags), "create", &label)) {
    fuse_reply_err(req, err);
    return;
  }
  int fd;
  {
    CallerCreds as_caller(req);
    fd = openat(parent->fd, name, BackingFlags(fs, fi->flags) | O_CREAT | (fi->flags & O_EXCL),
                mode);
  }
  if (fd < 0) {
    fuse_reply_err(req, errno);
    return;
  }
  fuse_entry_param e;
  if (int err = DoLookup(fs, parent, name, &e)) {
    close(fd);
    fuse_reply_err(req, err);
    return;
  }
  LabelNew(fs, fs.table().Get(e.ino), fd, label);
  SetOpenReply(fs, fi, fd);
  if (fuse_reply_create(req, &e, fi) != 0) close(fd);
}

// One buffer over `size` bytes of file `fd` at `pos` (FUSE_BUFVEC_INIT is C-only).
fuse_bufvec FdBuf(size_t size, uint64_t fd, off_t pos) {
  fuse_bufvec v{};
  v.count = 1;
  v.buf[0].size = size;
  v.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  v.buf[0].fd = static_cast<int>(fd);
  v.buf[0].pos = pos;
  return v;
}

void OpRead(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  fuse_bufvec buf = FdBuf(size, fi->fh, off);
  fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void OpWriteBuf(fuse_req_t req, fuse_ino_t, fuse_bufvec* in, off_t off, fuse_file_info* fi) {
  fuse_bufvec out = FdBuf(fuse_buf_size(in), fi->fh, off);
  ssize_t n = fuse_buf_copy(&out, in, FUSE_BUF_SPLICE_NONBLOCK);
  if (n < 0) {
    fuse_reply_err(req, static_cast<int>(-n));
  } else {
    fuse_reply_write(req, static_cast<size_t>(n));
  }
}

void OpFlush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  // Closing a duplicate reports delayed write errors (NFS-style) without ending the file.
  int rc = close(dup(static_cast<int>(fi->fh)));
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpRelease(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  close(static_cast<int>(fi->fh));
  fuse_reply_err(req, 0);
}

void OpFsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
  int fd = static_cast<int>(fi->fh);
  int rc = datasync ? fdatasync(fd) : fsync(fd);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                 fuse_file_info* fi) {
  if (Node(req, ino)->read_only) {
    fuse_reply_err(req, EROFS);
    return;
  }
  int rc = fallocate(static_cast<int>(fi->fh), mode, off, len);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpCopyFileRange(fuse_req_t req, fuse_ino_t, off_t off_in, fuse_file_info* fi_in,
                     fuse_ino_t ino_out, off_t off_out, fuse_file_info* fi_out, size_t len,
                     int flags) {
  if (Node(req, ino_out)->read_only) {
    fuse_reply_err(req, EROFS);
    return;
  }
  loff_t in = off_in, out = off_out;
  ssize_t n = copy_file_range(static_cast<int>(fi_in->fh), &in, static_cast<int>(fi_out->fh), &out,
                              len, static_cast<unsigned>(flags));
  if (n < 0) {
    fuse_reply_err(req, errno);
  } else {
    fuse_reply_write(req, static_cast<size_t>(n));
  }
}

void OpLseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, fuse_file_info* fi) {
  off_t res = lseek(static_cast<int>(fi->fh), off, whence);
  if (res < 0) {
    fuse_reply_err(req, errno);
  } else {
    fuse_reply_lseek(req, res);
  }
}

}  // namespace

namespace {

// An open directory: the backing stream, or for a directory with map points in it (the
// virtual ones included) a listing taken at opendir with the map points merged in.
struct DirHandle {
  struct Entry {
    std::string name;
    ino_t ino;
    unsigned char type;
  };
  DIR* dp = nullptr;
  off_t offset = 0;
  dirent* entry = nullptr;  // read but not yet returned (the buffer was full)
  bool merged = false;
  std::vector<Entry> listing;  // when merged: served with offsets 1..n
  ~DirHandle() {
    if (dp) closedir(dp);
  }
};

// Backing entries plus the map points the backing directory does not have.
void MergeListing(const Inode* node, DirHandle* d) {
  d->merged = true;
  std::set<std::string, std::less<>> seen;
  if (d->dp) {
    while (dirent* e = readdir(d->dp)) {
      d->listing.push_back({e->d_name, e->d_ino, e->d_type});
      seen.insert(e->d_name);
    }
  } else {
    d->listing.push_back({".", 1, DT_DIR});
    d->listing.push_back({"..", 1, DT_DIR});
  }
  for (auto& [name, child] : node->overlay) {
    if (!seen.count(name)) d->listing.push_back({name, child->ino, DT_DIR});
  }
}

DirHandle* Dir(fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  Subject s;
  fs.checker().Begin(req, &s);
  if (!s.free) {
    ResolvedLabel label = fs.checker().LabelOf(*s.policy, node, fs.table());
    if (int err = fs.checker().Check(s, fs.table().PathOf(node), label, kPermRead, "opendir")) {
      fuse_reply_err(req, err);
      return;
    }
  }
  auto dir = std::make_unique<DirHandle>();
  if (!node->is_virtual()) {
    int fd = openat(node->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(dir->dp = fdopendir(fd))) {
      int err = errno;
      if (fd >= 0) close(fd);
      fuse_reply_err(req, err);
      return;
    }
  }
  if (!node->overlay.empty() || node->is_virtual()) MergeListing(node, dir.get());
  fi->fh = reinterpret_cast<uint64_t>(dir.get());
  if (fuse_reply_open(req, fi) == 0) dir.release();
}

// Adds one entry; false when the buffer is full. With `plus`, a lookup is counted for it
// (and undone if it does not fit).
bool AddEntry(fuse_req_t req, Inode* parent, const char* name, ino_t ino, unsigned char type,
              off_t next, bool plus, std::vector<char>* buf, size_t* used) {
  SptFs& fs = Fs(req);
  char* p = buf->data() + *used;
  size_t room = buf->size() - *used;
  size_t n;
  bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
  if (!plus) {
    struct stat st {};
    st.st_ino = ino;
    st.st_mode = static_cast<mode_t>(type) << 12;
    n = fuse_add_direntry(req, p, room, name, &st, next);
  } else {
    fuse_entry_param e{};
    if (dot) {
      e.attr.st_ino = ino;
      e.attr.st_mode = static_cast<mode_t>(type) << 12;
    } else if (DoLookup(fs, parent, name, &e) != 0) {
      return true;  // vanished meanwhile: skip it
    }
    n = fuse_add_direntry_plus(req, p, room, name, &e, next);
    if (n > room && e.ino) fs.table().Forget(fs.table().Get(e.ino), 1);
  }
  if (n > room) return false;
  *used += n;
  return true;
}

void ReadMerged(fuse_req_t req, Inode* node, DirHandle* d, off_t off, bool plus,
                std::vector<char>* buf, size_t* used) {
  for (size_t i = static_cast<size_t>(off); i < d->listing.size(); ++i) {
    const DirHandle::Entry& e = d->listing[i];
    if (!AddEntry(req, node, e.name.c_str(), e.ino, e.type, static_cast<off_t>(i + 1), plus, buf,
                  used)) {
      return;
    }
  }
}

void ReadBacking(fuse_req_t req, Inode* node, DirHandle* d, off_t off, bool plus,
                 std::vector<char>* buf, size_t* used) {
  if (off != d->offset) {
    seekdir(d->dp, off);
    d->entry = nullptr;
    d->offset = off;
  }
  while (true) {
    if (!d->entry) {
      errno = 0;
      d->entry = readdir(d->dp);
      if (!d->entry) return;
    }
    dirent* e = d->entry;
    if (!AddEntry(req, node, e->d_name, e->d_ino, e->d_type, e->d_off, plus, buf, used)) return;
    d->entry = nullptr;
    d->offset = e->d_off;
  }
}

void DoReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi,
               bool plus) {
  Inode* node = Node(req, ino);
  std::vector<char> buf(size);
  size_t used = 0;
  if (Dir(fi)->merged) {
    ReadMerged(req, node, Dir(fi), off, plus, &buf, &used);
  } else {
    ReadBacking(req, node, Dir(fi), off, plus, &buf, &used);
  }
  fuse_reply_buf(req, buf.data(), used);
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  DoReaddir(req, ino, size, off, fi, false);
}
void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  DoReaddir(req, ino, size, off, fi, true);
}

void OpReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete Dir(fi);
  fuse_reply_err(req, 0);
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
  DirHandle* d = Dir(fi);
  if (!d->dp) {
    fuse_reply_err(req, 0);
    return;
  }
  int fd = dirfd(d->dp);
  int rc = datasync ? fdatasync(fd) : fsync(fd);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpStatfs(fuse_req_t req, fuse_ino_t ino) {
  Inode* node = Node(req, ino);
  // A virtual directory reports the file system of its first real child.
  while (node->is_virtual() && !node->overlay.empty()) node = node->overlay.begin()->second;
  struct statvfs sv {};
  if (!node->is_virtual()) {
    PathFd pf(Fs(req).table(), node);
    if (pf.error() || fstatvfs(pf.fd(), &sv) != 0) {
      fuse_reply_err(req, pf.error() ? pf.error() : errno);
      return;
    }
  }
  fuse_reply_statfs(req, &sv);
}

}  // namespace

namespace {

void ReplyXattr(fuse_req_t req, size_t size, const char* data, ssize_t n) {
  if (n < 0) {
    fuse_reply_err(req, errno);
  } else if (size == 0) {
    fuse_reply_xattr(req, static_cast<size_t>(n));
  } else if (static_cast<size_t>(n) > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, data, static_cast<size_t>(n));
  }
}

void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  if (node == fs.table().root() && strcmp(name, kSocketXattr) == 0) {
    const std::string& sock = fs.options().socket_path;
    errno = 0;
    ReplyXattr(req, size, sock.data(), static_cast<ssize_t>(sock.size()));
    return;
  }
  if (node->is_virtual()) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  PathFd pf(fs.table(), node);
  if (pf.error()) {
    fuse_reply_err(req, pf.error());
    return;
  }
  std::vector<char> buf(size);
  ssize_t n = getxattr(ProcPath(pf.fd()).c_str(), name, buf.data(), size);
  ReplyXattr(req, size, buf.data(), n);
}

void OpListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Inode* node = Node(req, ino);
  if (node->is_virtual()) {
    ReplyXattr(req, size, "", 0);
    return;
  }
  PathFd pf(Fs(req).table(), node);
  if (pf.error()) {
    fuse_reply_err(req, pf.error());
    return;
  }
  std::vector<char> buf(size);
  ssize_t n = listxattr(ProcPath(pf.fd()).c_str(), buf.data(), size);
  ReplyXattr(req, size, buf.data(), n);
}

// setxattr/removexattr need w on the object. The label attribute also needs an
// unconfined (or disabled) domain or the file_relabel capability, and a value that
// names a label the policy defines (else EINVAL, for everyone).
int CheckXattr(SptFs& fs, const Subject& s, Inode* node, const char* name, const char* value,
               size_t size, const char* op) {
  AccessChecker& ck = fs.checker();
  bool is_label = ck.label_xattr() == name;
  if (is_label && value && s.policy) {
    std::string_view text(value, size);
    if (!IsLabelText(text) || !s.policy->FindLabel(text)) return EINVAL;
  }
  if (s.free) return 0;
  ResolvedLabel label = ck.LabelOf(*s.policy, node, fs.table());
  std::string path = fs.table().PathOf(node);
  Decision d;
  if (int err = ck.Check(s, path, label, kPermWrite, op, &d)) return err;
  if (!is_label || (s.domain && s.domain->HasCapability("file_relabel"))) return 0;
  d.reason = "no file_relabel";
  return ck.Refuse(s, d, path, label, kPermWrite, op, "the label attribute needs file_relabel");
}

// Runs a path-based xattr call on the node (through /proc/self/fd); 0 or an errno.
template <typename Fn>
int XattrCall(SptFs& fs, const Inode* node, Fn fn) {
  PathFd pf(fs.table(), node);
  if (pf.error()) return pf.error();
  return fn(ProcPath(pf.fd()).c_str()) == 0 ? 0 : errno;
}

void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  int err = CannotChange(node, nullptr);
  Subject s;
  if (!err) {
    fs.checker().Begin(req, &s);
    err = CheckXattr(fs, s, node, name, value, size, "setxattr");
  }
  if (!err)
    err = XattrCall(fs, node,
                    [&](const char* path) { return setxattr(path, name, value, size, flags); });
  if (!err && fs.checker().label_xattr() == name) fs.checker().LabelChanged(node);
  fuse_reply_err(req, err);
}

void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  int err = CannotChange(node, nullptr);
  Subject s;
  if (!err) {
    fs.checker().Begin(req, &s);
    err = CheckXattr(fs, s, node, name, nullptr, 0, "removexattr");
  }
  if (!err) err = XattrCall(fs, node, [&](const char* path) { return removexattr(path, name); });
  if (!err && fs.checker().label_xattr() == name) fs.checker().LabelChanged(node);
  fuse_reply_err(req, err);
}

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops{};
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetattr;
  ops.setattr = OpSetattr;
  ops.readlink = OpReadlink;
  ops.mknod = OpMknod;
  ops.mkdir = OpMkdir;
  ops.symlink = OpSymlink;
  ops.unlink = OpUnlink;
  ops.rmdir = OpRmdir;
  ops.rename = OpRename;
  ops.link = OpLink;
  ops.open = OpOpen;
  ops.create = OpCreate;
  ops.read = OpRead;
  ops.write_buf = OpWriteBuf;
  ops.flush = OpFlush;
  ops.release = OpRelease;
  ops.fsync = OpFsync;
  ops.opendir = OpOpendir;
  ops.readdir = OpReaddir;
  ops.readdirplus = OpReaddirplus;
  ops.releasedir = OpReleasedir;
  ops.fsyncdir = OpFsyncdir;
  ops.statfs = OpStatfs;
  ops.getxattr = OpGetxattr;
  ops.listxattr = OpListxattr;
  ops.setxattr = OpSetxattr;
  ops.removexattr = OpRemovexattr;
  ops.fallocate = OpFallocate;
  ops.copy_file_range = OpCopyFileRange;
  ops.lseek = OpLseek;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& SptFs::Ops() {
  static const fuse_lowlevel_ops ops = MakeOps();
  return ops;
}

}  // namespace sptfs
