// mknod, mkdir, symlink: a new entry made as the caller, after the policy grants w at
// its path; it gets the default label of that path. (create is in ops_open.cc: it also
// opens.)
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "fs/caller_creds.h"
#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

// mknod, mkdir and symlink: check, make as the caller, label, look up.
enum class Make { kNode, kDir, kSymlink };

void MakeEntry(fuse_req_t req, fuse_ino_t parent_ino, const char* name, Make what, mode_t mode,
               dev_t rdev, const char* target) {
  SptFs& fs = Fs(req);
  Inode* parent = ChangeableParent(req, parent_ino, name);
  if (!parent) return;
  static const char* kOps[] = {"mknod", "mkdir", "symlink"};
  Subject s;
  fs.checker().Begin(req, &s);
  ResolvedLabel label;
  std::string path = fs.table().PathOf(parent, name);
  const char* op = kOps[static_cast<int>(what)];
  int denied = CheckNew(fs, s, path, kPermWrite, op, &label);
  if (!denied) denied = CheckSetid(fs, s, path, label, mode, 0, op);
  if (int err = denied) {
    fuse_reply_err(req, err);
    return;
  }
  int rc;
  {
    CallerUmask caller_umask(req);
    if (int err = caller_umask.error()) {
      fuse_reply_err(req, err);
      return;
    }
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
  if (!err) {
    Inode* node = fs.table().Get(e.ino);
    err = LabelNew(fs, node, -1, label);
    if (err) fs.table().Forget(node, 1);  // the kernel never hears of this node
  }
  if (err) unlinkat(parent->fd, name, what == Make::kDir ? AT_REMOVEDIR : 0);
  ReplyEntryOrErr(req, err, e);
}

}  // namespace

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  MakeEntry(req, parent, name, Make::kNode, mode, rdev, nullptr);
}
void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  MakeEntry(req, parent, name, Make::kDir, mode, 0, nullptr);
}
void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  MakeEntry(req, parent, name, Make::kSymlink, 0, 0, target);
}

}  // namespace sptfs::ops
