// FUSE over io_uring (Linux 6.14+; docs/sptfs.md, `--io-uring`; docs/PERFORMANCE.md).
// With it the kernel no longer queues a caller's request for whichever worker reads
// /dev/fuse next: it hands it to a queue of the caller's own CPU, served here by workers
// pinned to that CPU, each waiting in an io_uring of its own on one registered entry. The
// caller sleeps and the worker runs on the same CPU, so a round trip needs no wake-up of
// another CPU (the cost docs/PERFORMANCE.md, "One reader that polls", measures).
//
// The kernel offers it only when the fuse module's `enable_uring` parameter is on; the
// daemon then asks for it in its INIT reply (fuse_io.cc) and registers one queue per
// possible CPU right after. Until every queue has an entry the kernel holds every
// request back, so a worker that cannot register ends the mount (UringFailed). Forgets,
// interrupts and the daemon's notifications still go through /dev/fuse, so the usual
// workers keep reading it. Replies are taken from the session's writev (fuse_io.cc):
// libfuse answers on the thread that processes the request, which for a ring request is
// the ring worker, so a thread-local says which entry a reply belongs to.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sptfs {

// Whether the daemon asks for io_uring (before the mount; default off).
void SetUringWanted(bool wanted);
bool UringWanted();

// Whether this process can serve through io_uring: the kernel offers it and an io_uring
// can be set up here (kernel.io_uring_disabled, a seccomp filter or memory may forbid
// it). Checked before the mount: once the INIT reply has asked for the rings, the kernel
// holds every request until each queue has an entry. Else false, and `*why` says why.
bool UringUsable(std::string* why);

// Whether the kernel's INIT offered FUSE_OVER_IO_URING (the module parameter is on).
bool UringOffered(uint64_t init_flags);

// After the INIT reply that asked for io_uring was written: starts the queues' workers
// for session `se` on device `fd`, with entries of `payload_size` bytes. Returns once
// every worker has submitted its registration or failed to (then UringFailed).
void StartUring(fuse_session* se, int fd, size_t payload_size);

// From the session's writev: if this thread is answering a ring request and `iov` is that
// reply, takes it into the entry and sets `*n` to the bytes written; false otherwise (the
// reply goes to /dev/fuse).
bool UringTakeThreadReply(const iovec* iov, int count, ssize_t* n);

// Ends the workers and waits for them. After the mount is gone (requests may still come
// until then), before the session is destroyed. Idempotent.
void StopUring();

// Whether a ring worker ended while the mount was live (its entry could not be
// registered, or the kernel ended it). The kernel would then hold the requests of that
// worker's CPU for good (or forever, before every queue had an entry), so the worker
// says why, once for all of them, and ends the mount with SIGTERM; the daemon's exit
// status is then 1.
bool UringFailed();

}  // namespace sptfs
