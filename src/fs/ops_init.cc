// init: what sptfs asks of the FUSE connection. Nothing is mediated here.
#include "fs/fuse_io.h"
#include "fs/fuse_uring.h"
#include "fs/ops_internal.h"

namespace sptfs::ops {

void OpInit(void* userdata, fuse_conn_info* conn) {
  auto* fs = static_cast<SptFs*>(userdata);
  // Data goes through the daemon (no kernel passthrough before libfuse 3.17): splice it
  // and ask for the largest requests the kernel allows.
  // Not with io_uring: a ring request's answer must reach its entry through the session's
  // writev (fs/fuse_uring.h), never a splice into /dev/fuse.
  if ((conn->capable & FUSE_CAP_SPLICE_WRITE) && !UringWanted()) {
    conn->want |= FUSE_CAP_SPLICE_WRITE;
  }
  if (conn->capable & FUSE_CAP_SPLICE_MOVE) conn->want |= FUSE_CAP_SPLICE_MOVE;
  if (conn->capable & FUSE_CAP_SPLICE_READ) conn->want |= FUSE_CAP_SPLICE_READ;
  if (fs->options().writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE)) {
    conn->want |= FUSE_CAP_WRITEBACK_CACHE;
  }
  // The mode a caller asks for arrives unmasked, with the caller's umask beside it, and
  // the backing call applies that umask (CallerUmask): so the daemon's own umask never
  // applies, and a parent's default ACL replaces the umask as it does on the backing
  // store (docs/sptfs.md, "Modes and umask").
  if (conn->capable & FUSE_CAP_DONT_MASK) conn->want |= FUSE_CAP_DONT_MASK;
  // The kernel then skips the attribute refresh (a GETATTR round trip) before every chown,
  // and the daemon clears set-id bits and file capabilities on write, truncate and chown
  // as the kernel would for the caller (fs/kill_priv.h). The INIT reply gets the flag,
  // and its V2, from fs/fuse_io.h (libfuse 3.14 sends neither).
  if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV) conn->want |= FUSE_CAP_HANDLE_KILLPRIV;
  // Locks are left to the kernel (local to this machine, which is all a mount here sees).
  conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
  conn->max_write = 1 << 20;
  NoteInitWant(conn->want);  // libfuse 3.14 would not send HANDLE_KILLPRIV (fs/fuse_io.h)
}

}  // namespace sptfs::ops
