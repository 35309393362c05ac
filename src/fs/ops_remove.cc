// unlink, rmdir: w on the object that goes away. A file unlinked while open stays
// reachable through its node (InodeTable::KeepBeforeUnlink).
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

void Remove(fuse_req_t req, fuse_ino_t parent_ino, const char* name, bool dir) {
  SptFs& fs = Fs(req);
  Inode* parent = ChangeableParent(req, parent_ino, name);
  if (!parent) return;
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

}  // namespace

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Remove(req, parent, name, false);
}
void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Remove(req, parent, name, true);
}

}  // namespace sptfs::ops
