// Writes the tracker's state file (state_file.h) on a thread of its own, so that no
// request waits for a file write (issue 15 item 4). A change asks for a save with Want(),
// under the tracker's lock: that only counts. The saver's thread then takes a snapshot
// (`snapshot`, which takes the tracker's lock itself) and writes it (`write`) with no
// lock held. Saves coalesce: one write covers every Want() made before its snapshot, and
// the last write always has the newest state. Stop() (and the destructor) writes what is
// still wanted before it returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "domains/state_file.h"
#include "util/status.h"

namespace sptfs {

class StateSaver {
 public:
  using Snapshot = std::function<TrackerState()>;
  using Writer = std::function<Status(const TrackerState&)>;
  // How long a `soon` save may wait for more changes to share its write.
  static constexpr std::chrono::milliseconds kSoon{100};

  StateSaver(Snapshot snapshot, Writer write);
  ~StateSaver();
  StateSaver(const StateSaver&) = delete;
  StateSaver& operator=(const StateSaver&) = delete;

  // Asks for a write of the state as it is now; call it after the change, under the lock
  // `snapshot` takes. `soon`: a change that may wait kSoon for company (a fork storm's
  // records), else it is written at once. Returns a ticket for Wait().
  uint64_t Want(bool soon);
  // Blocks until a write that includes the change of `ticket` is done, and returns the
  // result of the last write (Busy if saving stopped before). Not under that lock.
  Status Wait(uint64_t ticket);
  // Writes what is still wanted, then ends the thread; later Want()s are not written.
  // Not under the lock `snapshot` takes.
  void Stop();

 private:
  void Loop();

  const Snapshot snapshot_;
  const Writer write_;
  std::mutex mu_;                    // taken under the tracker's lock, never the other way round
  std::condition_variable cv_;       // the thread: something is wanted, or stop
  std::condition_variable done_cv_;  // Wait(): a write is done, or the thread ended
  uint64_t wanted_ = 0;              // tickets given out
  uint64_t urgent_ = 0;              // the last ticket that must not wait
  uint64_t written_ = 0;             // every ticket up to this one is on disk
  Status last_ = Status::Ok();
  std::chrono::steady_clock::time_point last_write_;
  bool stop_ = false, ended_ = false;
  std::thread thread_;
};

}  // namespace sptfs
