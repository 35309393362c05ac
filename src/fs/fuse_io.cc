#include "fs/fuse_io.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "fs/fuse_reader.h"
#include "fs/fuse_uring.h"
#include "fs/uring_frame.h"

namespace sptfs {
namespace {

// The INIT request's unique (0 until it is read) and whether the reply gets the flag.
std::atomic<uint64_t> init_unique{0};
std::atomic<uint64_t> init_offered{0};  // the kernel's INIT flags (flags2 in the high half)
std::atomic<bool> want_killpriv{false};
std::atomic<fuse_session*> session{nullptr};  // the one UseFuseIo was given

bool SessionExited() {
  fuse_session* se = session.load();
  return se != nullptr && fuse_session_exited(se) != 0;
}

struct ReadArgs {
  int fd;
  void* buf;
  size_t len;
};
struct SpliceArgs {
  int in;
  int out;
  size_t len;
  unsigned flags;
};

ssize_t Read(int fd, void* buf, size_t len, void*) {
  ReadArgs args{fd, buf, len};
  ssize_t n = ReceiveRequest(
      fd,
      [](void* p) {
        auto* a = static_cast<ReadArgs*>(p);
        return read(a->fd, a->buf, a->len);
      },
      &args, SessionExited);
  if (n >= static_cast<ssize_t>(sizeof(fuse_in_header))) {
    const auto* in = static_cast<const fuse_in_header*>(buf);
    if (in->opcode == FUSE_INIT &&
        n >= static_cast<ssize_t>(sizeof(fuse_in_header) + offsetof(fuse_init_in, flags) + 4)) {
      const auto* init = reinterpret_cast<const fuse_init_in*>(in + 1);
      uint64_t flags = init->flags;
      if ((flags & FUSE_INIT_EXT) &&
          n >= static_cast<ssize_t>(sizeof(fuse_in_header) + offsetof(fuse_init_in, flags2) + 4)) {
        flags |= static_cast<uint64_t>(init->flags2) << 32;
      }
      init_offered.store(flags);
      init_unique.store(in->unique);
    }
  }
  return n;
}

// Asks for FUSE over io_uring in INIT reply `init` (of `len` bytes) if the daemon wants
// it and the kernel offered it; the entries' payload size then, else 0.
size_t AskForUring(fuse_init_out* init, size_t len) {
  if (!UringWanted() || !UringOffered(init_offered.load()) ||
      len < offsetof(fuse_init_out, flags2) + 4) {
    return 0;
  }
  init->flags |= FUSE_INIT_EXT;
  init->flags2 |= static_cast<uint32_t>(kFuseOverIoUring >> 32);
  return UringPayloadSize(init->max_write, init->max_pages,
                          static_cast<size_t>(sysconf(_SC_PAGESIZE)));
}

// Edits a successful INIT reply (header, then fuse_init_out): FUSE_HANDLE_KILLPRIV, and
// io_uring when asked for. The payload size of io_uring entries if it asked, else 0.
size_t FixInitReply(iovec* iov, int count) {
  if (count < 2 || iov[0].iov_len < sizeof(fuse_out_header)) return 0;
  const auto* out = static_cast<const fuse_out_header*>(iov[0].iov_base);
  uint64_t unique = init_unique.load();
  if (unique == 0 || out->unique != unique || out->error != 0) return 0;
  init_unique.store(0);  // one INIT per session
  if (iov[1].iov_len < offsetof(fuse_init_out, flags) + 4) return 0;
  auto* init = static_cast<fuse_init_out*>(iov[1].iov_base);
  // V2 as well (libfuse 3.14 does not know it): the kernel then also marks a file it
  // found without set-id bits or capability as such (S_NOSEC, until its attributes are
  // next refreshed) and skips the GETXATTR of security.capability before its next
  // writes. Its extra flags (FUSE_WRITE_KILL_SUIDGID, FATTR_KILL_SUIDGID,
  // FUSE_OPEN_KILL_SUIDGID) do not reach the file system through libfuse 3.14; the
  // daemon decides from the caller itself (kill_priv.h; O_TRUNC opens truncate as the
  // caller) and removes a capability on every write.
  if (want_killpriv.load()) {
    init->flags |= FUSE_HANDLE_KILLPRIV |
                   (static_cast<uint32_t>(init_offered.load()) & FUSE_HANDLE_KILLPRIV_V2);
  }
  return AskForUring(init, iov[1].iov_len);
}

ssize_t Writev(int fd, iovec* iov, int count, void*) {
  ssize_t n = 0;
  if (UringTakeThreadReply(iov, count, &n)) return n;  // an answer to a ring request
  size_t uring_payload = FixInitReply(iov, count);
  n = writev(fd, iov, count);
  // The kernel has taken the INIT reply (the connection is initialized): register now,
  // as it holds every request back until each CPU's queue has an entry.
  if (uring_payload > 0 && n >= 0)
    StartUring(session.load(), fuse_session_fd(session.load()), uring_payload);
  return n;
}

// With FUSE_CAP_SPLICE_READ (ops_init.cc) libfuse takes every request after INIT through
// this (from the device into its pipe), not through Read: the same turn applies.
ssize_t SpliceReceive(int in, off_t* in_off, int out, off_t* out_off, size_t len, unsigned flags,
                      void*) {
  if (in_off != nullptr || out_off != nullptr) return splice(in, in_off, out, out_off, len, flags);
  SpliceArgs args{in, out, len, flags};
  return ReceiveRequest(
      in,
      [](void* p) {
        auto* a = static_cast<SpliceArgs*>(p);
        return splice(a->in, nullptr, a->out, nullptr, a->len, a->flags);
      },
      &args, SessionExited);
}

ssize_t SpliceSend(int in, off_t* in_off, int out, off_t* out_off, size_t len, unsigned flags,
                   void*) {
  return splice(in, in_off, out, out_off, len, flags);
}

}  // namespace

bool UseFuseIo(fuse_session* se) {
  static const fuse_custom_io io = {Writev, Read, SpliceReceive, SpliceSend};
  session.store(se);
  return fuse_session_custom_io(se, &io, fuse_session_fd(se)) == 0;
}

void NoteInitWant(uint64_t want) { want_killpriv.store((want & FUSE_CAP_HANDLE_KILLPRIV) != 0); }

}  // namespace sptfs
