#include "fs/fd_reclaim.h"

#include <sys/resource.h>

#include <chrono>

namespace sptfs {
namespace {

size_t CurrentLimit() {
  struct rlimit lim;
  return getrlimit(RLIMIT_NOFILE, &lim) == 0 ? lim.rlim_cur : 1024;
}

constexpr size_t kMaxPerRound = 4096;  // entries dropped per round, to bound one round's work

}  // namespace

FdReclaimer::FdReclaimer(fuse_session* se, const InodeTable* table)
    : se_(se), table_(table), thread_([this] { Loop(); }) {}

FdReclaimer::~FdReclaimer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

size_t FdReclaimer::HighMark(size_t limit) {
  return (limit - FdBudget::LimitsFor(limit, 0).reserve) / 2;
}

void FdReclaimer::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

// Checks once a second (a cheap counter read), and at once when poked.
void FdReclaimer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || poked_; });
    if (stop_) break;
    poked_ = false;
    lock.unlock();
    ReclaimOnce();
    lock.lock();
  }
}

void FdReclaimer::ReclaimOnce() {
  size_t high = HighMark(CurrentLimit());
  size_t held = table_->held_fds();
  if (held <= high) return;
  size_t want = held - high / 2;
  auto entries = table_->FdHolders(want < kMaxPerRound ? want : kMaxPerRound, cursor_);
  cursor_ += entries.size();  // entries the kernel keeps in use are not asked for again next
  for (const auto& [parent, name] : entries) {
    // ENOENT (the kernel forgot it meanwhile) is fine: that is what was wanted.
    fuse_lowlevel_notify_inval_entry(se_, parent, name.c_str(), name.size());
  }
}

}  // namespace sptfs
