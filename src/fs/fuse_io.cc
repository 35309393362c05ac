#include "fs/fuse_io.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "fs/fuse_reader.h"

namespace sptfs {
namespace {

// The INIT request's unique (0 until it is read) and whether the reply gets the flag.
std::atomic<uint64_t> init_unique{0};
std::atomic<uint32_t> init_offered{0};  // the kernel's INIT flags
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
      init_offered.store(init->flags);
      init_unique.store(in->unique);
    }
  }
  return n;
}

// Sets FUSE_HANDLE_KILLPRIV in a successful INIT reply (header, then fuse_init_out).
void FixInitReply(iovec* iov, int count) {
  if (count < 2 || iov[0].iov_len < sizeof(fuse_out_header)) return;
  const auto* out = static_cast<const fuse_out_header*>(iov[0].iov_base);
  uint64_t unique = init_unique.load();
  if (unique == 0 || out->unique != unique || out->error != 0) return;
  init_unique.store(0);  // one INIT per session
  if (!want_killpriv.load() || iov[1].iov_len < offsetof(fuse_init_out, flags) + 4) return;
  auto* init = static_cast<fuse_init_out*>(iov[1].iov_base);
  // V2 as well (libfuse 3.14 does not know it): the kernel then also marks a file it
  // found without set-id bits or capability as such (S_NOSEC, until its attributes are
  // next refreshed) and skips the GETXATTR of security.capability before its next
  // writes. Its extra flags (FUSE_WRITE_KILL_SUIDGID, FATTR_KILL_SUIDGID,
  // FUSE_OPEN_KILL_SUIDGID) do not reach the file system through libfuse 3.14; the
  // daemon decides from the caller itself (kill_priv.h; O_TRUNC opens truncate as the
  // caller) and removes a capability on every write.
  init->flags |= FUSE_HANDLE_KILLPRIV | (init_offered.load() & FUSE_HANDLE_KILLPRIV_V2);
}

ssize_t Writev(int fd, iovec* iov, int count, void*) {
  FixInitReply(iov, count);
  return writev(fd, iov, count);
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
