// The kernel's process events (proc connector, netlink): fork, exec and exit of every
// process, in the order they happened. The tracker reads them before it answers, so a
// child inherits its parent's record at the moment of the fork, even if the parent
// exits before the child is ever seen (orphans), and an exec is known exactly.
// Needs root (CAP_NET_ADMIN) and CONFIG_PROC_EVENTS; Open() returns nullptr without.
// The queue is 8 MiB; SPTFS_PROC_EVENTS_QUEUE=BYTES in the environment sets another
// size (tests use a tiny one to make the kernel drop events; docs/sptfs.md).
#pragma once

#include <sys/types.h>

#include <atomic>
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
};

class ProcEvents {
 public:
  static std::unique_ptr<ProcEvents> Open();
  ~ProcEvents();
  // Hands every queued event to `sink`, oldest first, without blocking.
  void Drain(const std::function<void(const ProcEvent&)>& sink);
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
