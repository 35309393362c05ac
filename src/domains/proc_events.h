// The kernel's process events (proc connector, netlink): fork, exec and exit of every
// process, in the order they happened. The tracker reads them on a thread of its own and
// before it answers (tracker.cc, "Process events"), so a child inherits its parent's
// record at the moment of the fork, even if the parent exits before the child is ever
// seen (orphans), and an exec is known exactly.
// Needs root (CAP_NET_ADMIN) and CONFIG_PROC_EVENTS; Open() returns nullptr without.
// The queue is 8 MiB; SPTFS_PROC_EVENTS_QUEUE=BYTES in the environment sets another
// size (tests use a tiny one to make the kernel drop events; docs/sptfs.md).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace sptfs {

struct ProcEvent {
  // kExit: the thread whose id is the process id ends (the leader: not always the end
  // of the process, which ends with its last thread, and a non-leader thread's exec ends
  // the old leader this way too). kThread: another thread starts; kThreadExit: one
  // ends. kExec: the process runs a new program (from any of its threads; the exec'ing
  // thread then has the process id). kChanged: a thread's name, uid or gid changed.
  enum class Kind { kFork, kExec, kExit, kThread, kThreadExit, kChanged };
  Kind kind = Kind::kFork;
  pid_t pid = 0;          // the new process (fork), or the process of the event
  pid_t parent_tgid = 0;  // fork only: the process that forked
  pid_t tid = 0;          // the thread of the event (fork: the new one; exec: the pid)
  uint64_t time_ns = 0;   // when the kernel made it (CLOCK_MONOTONIC), before queueing it
};

class ProcEvents {
 public:
  static std::unique_ptr<ProcEvents> Open();
  ~ProcEvents();
  // Hands queued events to `sink`, oldest first, without blocking, until the queue is
  // empty, or `max` events were handed over, or one made after `until_ns` (CLOCK_MONOTONIC,
  // 0: no bound) was. The queue is in the order the events were queued, and each was
  // made before it was queued: after an event made after T, every event queued by T has
  // been handed over.
  void Drain(const std::function<void(const ProcEvent&)>& sink, uint64_t until_ns = 0,
             size_t max = SIZE_MAX);
  // Blocks until events are queued (true) or `stop_fd` is readable (false).
  bool Wait(int stop_fd) const;
  // How often the kernel reported that it dropped events because the queue was full
  // (ENOBUFS on the socket; each report may stand for many events). The tracker then
  // empties its cache and falls back on the ppid chain and the world namespaces.
  // Readable from any thread.
  uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

 private:
  explicit ProcEvents(int fd) : fd_(fd) {}
  int fd_;
  std::atomic<uint64_t> lost_{0};
};

}  // namespace sptfs
