#include "fs/fuse_reader.h"

#include <poll.h>
#include <sched.h>
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
int wake_fd = -1;   // eventfd (semaphore): "requests are queued and nobody reads them"
int timer_fd = -1;  // fires kTakeOverMs after a reader took a request, unless one reads again
std::once_flag setup_once;

bool Setup() {
  std::call_once(setup_once, [] {
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  });
  return wake_fd >= 0 && timer_fd >= 0;
}

void SetTimer(int ms) {
  itimerspec t{};
  t.it_value.tv_nsec = static_cast<long>(ms) * 1000000L;  // 0: disarmed
  timerfd_settime(timer_fd, 0, &t, nullptr);
}

bool Queued(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

// Returns once the device has a request, or after `micros` (then read() sleeps).
void PollDevice(int fd, int micros) {
  auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  while (!Queued(fd) && std::chrono::steady_clock::now() < end) {
  }
}

// Waits until woken (queued requests) or the take-over timer fires; consumes one event.
void Park() {
  pollfd p[2] = {{wake_fd, POLLIN, 0}, {timer_fd, POLLIN, 0}};
  if (poll(p, 2, -1) <= 0) return;  // EINTR: try again in the caller's loop
  uint64_t v;
  if (p[0].revents & POLLIN) {
    if (read(wake_fd, &v, sizeof(v)) < 0) return;  // another worker took it
  } else if (p[1].revents & POLLIN) {
    if (read(timer_fd, &v, sizeof(v)) < 0) return;
  }
}

}  // namespace

int DefaultReaderPollMicros() {
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2) return 0;
  return kDefaultPollMicros;
}

void SetReaderPollMicros(int poll_us) { poll_micros.store(poll_us < 0 ? 0 : poll_us); }
int ReaderPollMicros() { return poll_micros.load(); }

ssize_t ReceiveRequest(int fd, ReceiveFn receive, void* ctx) {
  int micros = poll_micros.load(std::memory_order_relaxed);
  if (micros == 0 || !Setup()) return receive(ctx);
  for (;;) {
    bool idle = false;
    if (!reading.compare_exchange_strong(idle, true, std::memory_order_acq_rel)) {
      Park();
      continue;
    }
    SetTimer(0);  // someone reads again
    PollDevice(fd, micros);
    ssize_t n = receive(ctx);
    int err = errno;
    reading.store(false, std::memory_order_release);
    if (n > 0) {
      if (Queued(fd)) {
        uint64_t one = 1;
        if (write(wake_fd, &one, sizeof(one)) < 0) SetTimer(1);  // cannot fail: the timer then
      }
      SetTimer(kTakeOverMs);
    }
    errno = err;
    return n;
  }
}

}  // namespace sptfs
