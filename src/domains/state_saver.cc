#include "domains/state_saver.h"

#include <utility>

namespace sptfs {

StateSaver::StateSaver(Snapshot snapshot, Writer write)
    : snapshot_(std::move(snapshot)), write_(std::move(write)), thread_([this] { Loop(); }) {}

StateSaver::~StateSaver() { Stop(); }

uint64_t StateSaver::Want(bool soon) {
  std::lock_guard lock(mu_);
  ++wanted_;
  if (!soon) urgent_ = wanted_;
  cv_.notify_all();
  return wanted_;
}

Status StateSaver::Wait(uint64_t ticket) {
  std::unique_lock lock(mu_);
  if (urgent_ < ticket) {  // a soon ticket that someone waits for is urgent now
    urgent_ = ticket;
    cv_.notify_all();
  }
  done_cv_.wait(lock, [&] { return written_ >= ticket || ended_; });
  if (written_ < ticket) return Status::Busy("domain state file: saving has stopped");
  return last_;
}

void StateSaver::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StateSaver::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || wanted_ > written_; });
    if (wanted_ == written_) break;  // stopped, and everything is on disk
    // Only soon changes: give a burst time to gather, up to kSoon after the last write.
    if (!stop_ && urgent_ <= written_) {
      cv_.wait_until(lock, last_write_ + kSoon, [&] { return stop_ || urgent_ > written_; });
    }
    // Every ticket given out by now is of a change made before the snapshot below (the
    // change and its Want() happen under the lock the snapshot takes).
    uint64_t ticket = wanted_;
    lock.unlock();
    Status s = write_(snapshot_());
    lock.lock();
    written_ = ticket;
    last_ = std::move(s);
    last_write_ = std::chrono::steady_clock::now();
    done_cv_.notify_all();
  }
  ended_ = true;
  done_cv_.notify_all();
}

}  // namespace sptfs
