#include "fs/fuse_reader.h"

#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace sptfs {
namespace {

std::atomic<int> poll_micros{0};
std::atomic<bool> reading{false};  // one worker holds the reader's part
std::atomic<int> parked{0};        // workers waiting in Park
int wake_fd = -1;   // eventfd (semaphore): "requests are queued and nobody reads them"
int timer_fd = -1;  // fires at most kTakeOverMs after a reader took a request
std::atomic<int64_t> timer_due_ns{0};  // when timer_fd fires next (0 or past: not armed)
int epoll_fd = -1;                     // both of them, where parked workers wait
std::once_flag setup_once;

bool Setup() {
  std::call_once(setup_once, [] {
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    for (int fd : {wake_fd, timer_fd}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      if (fd < 0 || epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        if (epoll_fd >= 0) close(epoll_fd);
        epoll_fd = -1;
        return;
      }
    }
  });
  return epoll_fd >= 0;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// After a reader took a request: makes sure a parked worker wakes within kTakeOverMs.
// The timer is armed only if it is not armed already, so a busy mount pays one
// timerfd_settime per kTakeOverMs rather than two per request. It may then fire sooner
// than kTakeOverMs after this request, or while someone reads again; the woken worker
// then finds the reader's part taken and parks again, or takes over a little early.
// Both are harmless: the contract is only "never later".
void ArmTakeOverTimer() {
  int64_t now = NowNs();
  int64_t due = timer_due_ns.load(std::memory_order_relaxed);
  if (due > now) return;
  int64_t next = now + static_cast<int64_t>(kTakeOverMs) * 1000000;
  if (!timer_due_ns.compare_exchange_strong(due, next, std::memory_order_relaxed)) return;
  itimerspec t{};
  t.it_value.tv_nsec = static_cast<long>(kTakeOverMs) * 1000000L;
  timerfd_settime(timer_fd, 0, &t, nullptr);
}

bool Queued(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

// Returns once the device has a request, or after `micros` (then read() sleeps), or
// once the session is ending (a signal caught while polling must not leave the worker
// asleep in read() until the next request).
void PollDevice(int fd, int micros, ExitedFn exited) {
  auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  while (!Queued(fd) && !exited() && std::chrono::steady_clock::now() < end) {
  }
}

// Waits until woken (queued requests) or the take-over timer fires; consumes one event.
// Every parked worker waits in the one epoll instance, and the kernel wakes one waiter
// of an epoll instance per event (plain poll() on the eventfd would wake them all).
void Park() {
  parked.fetch_add(1, std::memory_order_acq_rel);
  epoll_event ev[2];
  int n = epoll_wait(epoll_fd, ev, 2, -1);
  parked.fetch_sub(1, std::memory_order_acq_rel);
  uint64_t v;
  for (int i = 0; i < n; ++i) {
    // Another worker may have taken it (EAGAIN): nothing lost, the caller tries again.
    if (read(ev[i].data.fd, &v, sizeof(v)) < 0) continue;
  }
}

}  // namespace

int DefaultReaderPollMicros() {
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2) return 0;
  return kDefaultPollMicros;
}

void SetReaderPollMicros(int poll_us) { poll_micros.store(poll_us < 0 ? 0 : poll_us); }

ssize_t ReceiveRequest(int fd, ReceiveFn receive, void* ctx, ExitedFn exited) {
  int micros = poll_micros.load(std::memory_order_relaxed);
  if (micros == 0 || !Setup()) return receive(ctx);
  for (;;) {
    bool idle = false;
    if (!reading.compare_exchange_strong(idle, true, std::memory_order_acq_rel)) {
      Park();
      continue;
    }
    PollDevice(fd, micros, exited);
    if (exited()) {
      reading.store(false, std::memory_order_release);
      errno = EINTR;  // libfuse's loop then sees the session has ended
      return -1;
    }
    ssize_t n = receive(ctx);
    int err = errno;
    reading.store(false, std::memory_order_release);
    if (n > 0) {
      // Only if someone is parked (one about to park is covered by the timer).
      if (parked.load(std::memory_order_acquire) > 0 && Queued(fd)) {
        uint64_t one = 1;
        ssize_t w = write(wake_fd, &one, sizeof(one));  // if it fails, the timer wakes one
        (void)w;
      }
      ArmTakeOverTimer();
    }
    errno = err;
    return n;
  }
}

}  // namespace sptfs
