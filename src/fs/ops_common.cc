// The helpers of ops_internal.h. Lookup is here because every op that makes or names an
// entry (lookup, mknod, link, create, readdirplus) ends with it and must count the
// kernel's reference the same way.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <string>

#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

// A virtual directory's attributes: root-owned, read-only, timestamps of the mount.
void VirtualStat(const InodeTable& table, const Inode* node, struct stat* st) {
  static const time_t kMounted = time(nullptr);
  memset(st, 0, sizeof(*st));
  st->st_ino = node->ino;
  st->st_mode = S_IFDIR | 0755;
  st->st_nlink = 2 + table.OverlayOf(node).size();
  if (node->is_virtual_link()) {
    st->st_mode = S_IFLNK | 0777;
    st->st_nlink = 1;
    st->st_size = static_cast<off_t>(table.LinkTarget(node).size());
  }
  st->st_blksize = 4096;
  st->st_atime = st->st_mtime = st->st_ctime = kMounted;
}

void FillEntry(SptFs& fs, Inode* node, const struct stat& st, fuse_entry_param* e) {
  memset(e, 0, sizeof(*e));
  e->ino = fs.table().IdOf(node);
  e->attr = st;
  e->attr_timeout = fs.options().timeout;
  e->entry_timeout = fs.options().timeout;
}

// Linux keeps user.* attributes on regular files and directories only (EPERM on FIFOs,
// sockets, devices and symlinks), so those stay unlabelled under a user.* label attribute.
bool CarriesUserAttr(const Inode* node) { return S_ISREG(node->type()) || node->is_dir(); }

}  // namespace

int StatNode(const InodeTable& table, const Inode* node, struct stat* st) {
  if (node->is_virtual()) {
    VirtualStat(table, node, st);
    return 0;
  }
  return table.Stat(node, st);
}

void CloseHandle(SptFs& fs, int fd) {
  fs.budget().ReleaseFd(fd);
  close(fd);
}

int CannotChange(const InodeTable& table, const Inode* parent, const char* name) {
  if (parent->is_virtual() || parent->read_only) return EROFS;
  if (name && table.Overlay(parent, name)) return EBUSY;  // a map point
  return 0;
}

Inode* ChangeableParent(fuse_req_t req, fuse_ino_t parent_ino, const char* name) {
  Inode* parent = Node(req, parent_ino);
  if (int err = CannotChange(Fs(req).table(), parent, name)) {
    fuse_reply_err(req, err);
    return nullptr;
  }
  return parent;
}

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
    // Directories and hard links hold an fd while the kernel knows them: never out of
    // the reserve that caller identification needs (fd_budget.h).
    if (!fs.budget().TableMayGrow(fs.table().held_fds())) {
      fs.PokeReclaimer();
      return ENFILE;
    }
    fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno;
    if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;
      close(fd);
      return err;
    }
  }
  Inode* node = fs.table().Found(parent, name, fd, st);
  if (!node) return errno;  // EOVERFLOW (st_dev beyond 32 bits), ELOOP (the tree loops)
  FillEntry(fs, node, st, e);
  return 0;
}

void ReplyEntryOrErr(fuse_req_t req, int err, const fuse_entry_param& e) {
  if (err) {
    fuse_reply_err(req, err);
  } else if (fuse_reply_entry(req, &e) != 0 && e.ino) {
    Fs(req).table().Forget(Node(req, e.ino), 1);  // interrupted: the kernel counts nothing
  }
}

int CheckNew(SptFs& fs, const Subject& s, const std::string& path, Perms perms, const char* op,
             ResolvedLabel* label) {
  *label = ResolvedLabel{};
  if (s.policy) {
    label->id = s.policy->DefaultLabelFor(path);
    label->name = label->id == kUnlabeledId ? kUnlabeledName : s.policy->LabelName(label->id);
  }
  return fs.checker().Check(s, path, *label, perms | kPermWrite, op);
}

int CheckSetid(SptFs& fs, const Subject& s, const std::string& path, const ResolvedLabel& label,
               mode_t mode, mode_t had, const char* op) {
  constexpr mode_t kSetid = S_ISUID | S_ISGID;
  if (s.free || (mode & kSetid & ~had) == 0) return 0;
  if (s.domain && s.domain->HasCapability("file_setid")) return 0;
  Decision d = Decide(*s.policy, s.caller.domain, path, label.id, kPermWrite);
  d.reason = "no file_setid";
  return fs.checker().Refuse(s, d, path, label, kPermWrite, op,
                             "the setuid and setgid bits need file_setid");
}

int LabelNew(SptFs& fs, const Inode* node, int data_fd, const ResolvedLabel& label) {
  if (node->is_virtual()) return 0;
  const std::string& attr = fs.checker().label_xattr();
  if (label.id == kUnlabeledId || (attr.starts_with("user.") && !CarriesUserAttr(node))) {
    fs.checker().LabelIs(node, RawLabel{});  // a new inode has no attribute
    return 0;
  }
  fs.checker().LabelChanged(node);
  std::string name(label.name);
  int err = 0;
  if (data_fd >= 0) {
    err = fsetxattr(data_fd, attr.c_str(), name.data(), name.size(), 0) == 0 ? 0 : errno;
  } else {
    PathFd pf(fs.table(), node);
    if (pf.error()) return pf.error();
    Status st = WriteLabelFd(pf.fd(), attr, name);
    if (S_ISLNK(node->type())) return 0;  // symlinks may not carry user.* attributes
    if (!st.ok()) err = st.sys_errno() ? st.sys_errno() : EIO;
  }
  if (!err) fs.checker().LabelIs(node, RawLabel{true, name});
  return err;
}

}  // namespace sptfs::ops
