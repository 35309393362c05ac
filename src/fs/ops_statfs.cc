// statfs: the backing file system's numbers; not mediated.
#include <errno.h>
#include <sys/statvfs.h>

#include "fs/ops_internal.h"

namespace sptfs::ops {

void OpStatfs(fuse_req_t req, fuse_ino_t ino) {
  const InodeTable& table = Fs(req).table();
  Inode* node = Node(req, ino);
  // A virtual directory reports the file system of its first real child.
  while (node->is_virtual() && !table.OverlayOf(node).empty()) {
    node = table.OverlayOf(node).begin()->second;
  }
  struct statvfs sv {};
  if (!node->is_virtual()) {
    PathFd pf(table, node);
    if (pf.error() || fstatvfs(pf.fd(), &sv) != 0) {
      fuse_reply_err(req, pf.error() ? pf.error() : errno);
      return;
    }
  }
  fuse_reply_statfs(req, &sv);
}

}  // namespace sptfs::ops
