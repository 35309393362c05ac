// Keeps the tracker's process events flowing and resyncs it after the kernel dropped
// some (issue 20 item 5). The tracker reads its event queue only when it is asked who a
// caller is, so a program that forks without touching the mount could fill the queue
// and make the kernel drop events. A thread of its own (never a FUSE worker) asks every
// 100 ms (one cached Identify of its own thread: one recv of what is queued). When the
// kernel reported lost events since the last look, it writes
//   type=SPT_EVENTS_LOST lost=N total=M resynced=P
// to the audit log and re-identifies every process (DomainTracker::List), which copies
// the record of each one's nearest recorded ancestor onto it, so a child whose fork
// event was lost keeps its domain even if its parent exits later.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "audit/audit_log.h"
#include "domains/tracker.h"

namespace sptfs {

class EventWatch {
 public:
  EventWatch(DomainTracker* tracker, AuditLog* audit);  // audit may be nullptr
  ~EventWatch();                                        // stops the thread
  EventWatch(const EventWatch&) = delete;
  EventWatch& operator=(const EventWatch&) = delete;

 private:
  void Loop();
  void CheckOnce();

  DomainTracker* tracker_;
  AuditLog* audit_;
  uint64_t lost_seen_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sptfs
