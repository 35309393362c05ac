// How FUSE workers wait for the kernel's next request (docs/PERFORMANCE.md, "One
// reader that polls"). Every request is a round trip: the caller sleeps until the
// daemon has answered. Where waking a sleeping thread on another CPU is expensive (an
// inter-processor interrupt; in a VM, an exit to the host: 16 µs a round trip on the
// project's VM against 5.6 on one CPU), the daemon's half of that cost goes away if the
// worker that has just answered is still running when the next request comes.
//
// So one worker at a time is the device's reader: it polls the device (a zero-timeout
// poll) for up to `poll_us` microseconds, then blocks in read() as before. The other
// workers do not wait in the kernel, where each request would wake one of them (another
// CPU) while the reader takes it anyway: they park on an eventfd and a timerfd of the
// readers' own, and are woken
//  - when the reader takes a request and more are already queued (several callers at
//    once: the workers join in, one per queued request), and
//  - at most kTakeOverMs after the reader took a request, by a timer (a request that
//    takes long, such as an fsync, never keeps the others' requests waiting longer than
//    that). The woken worker reads if nobody does, else parks again; the timer is armed
//    only when it is not armed already (one timerfd_settime per kTakeOverMs on a busy
//    mount, not two per request).
// Each wake-up wakes one parked worker (they wait in one epoll instance), not all of them.
// With poll_us 0 every worker reads the device directly (libfuse's own behaviour).
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace sptfs {

// Within this long of a reader taking a request, a parked worker wakes and reads if
// nobody else does.
inline constexpr int kTakeOverMs = 2;
// The default polling budget (docs/PERFORMANCE.md: how it was chosen).
inline constexpr int kDefaultPollMicros = 50;

// kDefaultPollMicros, or 0 where the daemon may run on one CPU only (its affinity): a
// reader polling there would keep the CPU from the caller it waits for.
int DefaultReaderPollMicros();

// Sets the polling budget (0: off). Before the session's workers start.
void SetReaderPollMicros(int poll_us);

// Takes one request from /dev/fuse descriptor `fd` (the session's, or a worker's clone):
// waits for this worker's turn as described above, then returns `receive(ctx)` (a read(2)
// or a splice(2) of `fd`, with its errno). Called by every worker (fuse_io.cc).
// `exited` says whether the session is ending (fuse_session_exited): then it returns -1
// with EINTR instead of waiting in the device.
using ReceiveFn = ssize_t (*)(void* ctx);
using ExitedFn = bool (*)();
ssize_t ReceiveRequest(int fd, ReceiveFn receive, void* ctx, ExitedFn exited);

}  // namespace sptfs
