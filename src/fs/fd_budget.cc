#include "fs/fd_budget.h"

#include <errno.h>
#include <sys/resource.h>

#include <algorithm>

namespace sptfs {

FdBudget::Limits FdBudget::LimitsFor(size_t limit, size_t per_world) {
  Limits l;
  l.reserve = std::min(std::max<size_t>(128, limit / 16), limit / 2);
  size_t pool = limit - l.reserve;
  l.worlds = pool / 4 * 3;
  l.per_world = std::min(per_world ? per_world : pool / 4, l.worlds);
  return l;
}

int FdBudget::Admit(uint64_t world, size_t limit, size_t other, bool* first) {
  Limits l = LimitsFor(limit, per_world_);
  std::lock_guard<std::mutex> lock(mu_);
  int err = 0;
  size_t pool = limit > l.reserve + other ? limit - l.reserve - other : 0;
  if (world != 0) {
    auto it = worlds_.find(world);
    if (it != worlds_.end() && it->second >= l.per_world) {
      err = EMFILE;
    } else if (in_worlds_ >= l.worlds || in_worlds_ >= pool / 4 * 3) {
      err = ENFILE;  // the host keeps a quarter of what is left
    }
  }
  if (!err && total_ >= pool) err = ENFILE;
  if (err) {
    if (refused_.size() >= 4096) refused_.clear();  // worlds that ended refused
    bool fresh = refused_.insert(world).second;
    if (first) *first = fresh;
    return err;
  }
  refused_.erase(world);
  total_++;
  if (world != 0) {
    worlds_[world]++;
    in_worlds_++;
  }
  return 0;
}

namespace {
size_t CurrentLimit() {
  struct rlimit lim;
  return getrlimit(RLIMIT_NOFILE, &lim) == 0 ? lim.rlim_cur : 1024;
}
}  // namespace

bool FdBudget::TableMayGrow(size_t other) const {
  size_t limit = CurrentLimit();
  size_t reserve = LimitsFor(limit, per_world_).reserve;
  std::lock_guard<std::mutex> lock(mu_);
  return total_ + other + reserve < limit;
}

int FdBudget::Acquire(uint64_t world, size_t other, bool* first) {
  return Admit(world, CurrentLimit(), other, first);
}

void FdBudget::Release(uint64_t world) {
  std::lock_guard<std::mutex> lock(mu_);
  if (total_ > 0) total_--;
  if (world == 0) return;
  if (in_worlds_ > 0) in_worlds_--;
  auto it = worlds_.find(world);
  if (it != worlds_.end() && --it->second == 0) worlds_.erase(it);
}

void FdBudget::Bind(int fd, uint64_t world) {
  std::lock_guard<std::mutex> lock(mu_);
  fds_[fd] = world;
}

void FdBudget::ReleaseFd(int fd) {
  uint64_t world;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = fds_.find(fd);
    if (it == fds_.end()) return;
    world = it->second;
    fds_.erase(it);
  }
  Release(world);
}

size_t FdBudget::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

size_t FdBudget::held_by(uint64_t world) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = worlds_.find(world);
  return it == worlds_.end() ? 0 : it->second;
}

}  // namespace sptfs
