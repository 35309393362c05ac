// The operation table. The ops themselves live in ops_*.cc, one family per file, in the
// spirit of libfuse's passthrough_hp: every backing access is relative to an O_PATH fd (no
// PATH_MAX limit, no path races), data moves by splice, and the kernel caches entries,
// attributes and pages for `timeout` seconds. Each mediated operation asks AccessChecker
// first; see docs/sptfs.md "What is checked".
#include "fs/sptfs_ops.h"

#include <errno.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "domains/proc_reader.h"
#include "fs/ops_internal.h"

namespace sptfs {
namespace {

// Which world a placed caller belongs to, for its descriptor budget: the PID namespace
// just below the daemon's own in the caller's namespace chain (the one spt-run made; the
// namespaces a world makes inside it are below that one, so they share its budget), or,
// for a placed process in the daemon's own namespace, its domain (bit 63 set: namespace
// inode numbers are 32-bit). 0: unplaced (the host), or not identified.
uint64_t WorldOf(const Subject& s) {
  if (!s.caller.identified || !s.caller.placed) return 0;
  std::vector<uint64_t> chain;
  if (ProcReader().PidNamespaceChain(s.caller.tid, &chain) && chain.size() >= 2) {
    return chain[chain.size() - 2];
  }
  return (uint64_t{1} << 63) | s.caller.domain;
}

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

uint64_t SptFs::WorldOfCaller(const Subject& s) {
  if (!s.caller.identified || !s.caller.placed) return 0;
  {
    std::lock_guard<std::mutex> lock(worlds_mu_);
    auto it = worlds_.find(s.caller.tid);
    if (it != worlds_.end() && it->second.pid == s.caller.pid &&
        it->second.domain == s.caller.domain) {
      return it->second.world;
    }
  }
  uint64_t world = WorldOf(s);
  std::lock_guard<std::mutex> lock(worlds_mu_);
  if (worlds_.size() >= 8192) worlds_.clear();  // ended threads: bounded, never pruned one by one
  worlds_[s.caller.tid] = {s.caller.pid, s.caller.domain, world};
  return world;
}

// On the FORGET's thread, after its reply (the kernel waits for none): malloc_trim
// gives back only what the arenas of threads like the caller's hold (measured: called
// from the fd reclaimer's thread it gave back nothing), and FUSE workers freed it.
void SptFs::TrimIfWanted() {
  if (table_->TakeTrimHint()) malloc_trim(0);
}

int SptFs::AcquireHandle(const Subject& s, uint64_t* world) {
  *world = WorldOfCaller(s);
  bool first = false;
  int err = budget_.Acquire(*world, table_->held_fds(), &first);
  if (err == ENFILE) PokeReclaimer();  // the inode table's fds may be what fills the pool
  if (err && first && checker_->audit()) {
    checker_->audit()->Event(
        "SPT_FD_BUDGET",
        "pid=" + std::to_string(s.caller.pid) + " comm=" + AuditValue(s.caller.comm) + " world=" +
            std::to_string(*world) + " held=" + std::to_string(budget_.held_by(*world)) + " all=" +
            std::to_string(budget_.held()) + " result=" + (err == EMFILE ? "EMFILE" : "ENFILE"));
  }
  return err;
}

const fuse_lowlevel_ops& SptFs::Ops() {
  static const fuse_lowlevel_ops table = MakeOps();
  return table;
}

}  // namespace sptfs
