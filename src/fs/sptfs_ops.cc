// The operation table. The ops themselves live in ops_*.cc, one family per file, in the
// spirit of libfuse's passthrough_hp: every backing access is relative to an O_PATH fd (no
// PATH_MAX limit, no path races), data moves by splice, and the kernel caches entries,
// attributes and pages for `timeout` seconds. Each mediated operation asks AccessChecker
// first; see DESIGN.md "What is mediated".
#include "fs/sptfs_ops.h"

#include "fs/ops_internal.h"

namespace sptfs {
namespace {

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops table{};
  table.init = ops::OpInit;
  table.lookup = ops::OpLookup;
  table.forget = ops::OpForget;
  table.forget_multi = ops::OpForgetMulti;
  table.getattr = ops::OpGetattr;
  table.setattr = ops::OpSetattr;
  table.readlink = ops::OpReadlink;
  table.mknod = ops::OpMknod;
  table.mkdir = ops::OpMkdir;
  table.symlink = ops::OpSymlink;
  table.unlink = ops::OpUnlink;
  table.rmdir = ops::OpRmdir;
  table.rename = ops::OpRename;
  table.link = ops::OpLink;
  table.open = ops::OpOpen;
  table.create = ops::OpCreate;
  table.read = ops::OpRead;
  table.write_buf = ops::OpWriteBuf;
  table.flush = ops::OpFlush;
  table.release = ops::OpRelease;
  table.fsync = ops::OpFsync;
  table.opendir = ops::OpOpendir;
  table.readdir = ops::OpReaddir;
  table.readdirplus = ops::OpReaddirplus;
  table.releasedir = ops::OpReleasedir;
  table.fsyncdir = ops::OpFsyncdir;
  table.statfs = ops::OpStatfs;
  table.getxattr = ops::OpGetxattr;
  table.listxattr = ops::OpListxattr;
  table.setxattr = ops::OpSetxattr;
  table.removexattr = ops::OpRemovexattr;
  table.fallocate = ops::OpFallocate;
  table.copy_file_range = ops::OpCopyFileRange;
  table.lseek = ops::OpLseek;
  return table;
}

}  // namespace

const fuse_lowlevel_ops& SptFs::Ops() {
  static const fuse_lowlevel_ops table = MakeOps();
  return table;
}

}  // namespace sptfs
