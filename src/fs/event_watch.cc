#include "fs/event_watch.h"

#include <unistd.h>

#include <chrono>
#include <string>

namespace sptfs {

EventWatch::EventWatch(DomainTracker* tracker, AuditLog* audit)
    : tracker_(tracker), audit_(audit), thread_([this] { Loop(); }) {}

EventWatch::~EventWatch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventWatch::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    CheckOnce();
    lock.lock();
  }
}

void EventWatch::CheckOnce() {
  tracker_->Identify(gettid(), 0);  // drains the queue (and notices an overflow)
  uint64_t lost = tracker_->EventsLost();
  if (lost == lost_seen_) return;
  uint64_t before = lost_seen_;
  lost_seen_ = lost;
  // What the tracker has done already: emptied its answer cache. What is done here:
  // every process is identified again while its parent may still be alive.
  size_t resynced = tracker_->List().size();
  if (audit_) {
    audit_->Event("SPT_EVENTS_LOST", "lost=" + std::to_string(lost - before) +
                                         " total=" + std::to_string(lost) +
                                         " resynced=" + std::to_string(resynced));
  }
}

}  // namespace sptfs
