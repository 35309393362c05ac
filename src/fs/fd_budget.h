// Descriptor budgets (issue 20 item 4, docs/sptfs.md "Descriptors"). Every open file and
// open directory through the mount holds one backing descriptor in the daemon until the
// kernel releases it, and the daemon's descriptor limit is shared by every caller. So:
//   - a reserve (a sixteenth of the limit, at least 128) is never given to handles: it is
//     what caller identification (/proc reads, pidfds), the control socket, the audit log
//     and per-request O_PATH opens need, so those keep working when handles are many;
//   - each world (a PID namespace spt-run made, or the placed processes of one domain
//     outside any world) holds at most its budget of handles; over it, its own opens get
//     EMFILE, as a process over its own RLIMIT_NOFILE would;
//   - all worlds together hold at most three quarters of what is left after the reserve,
//     so unplaced callers (the host) always keep a quarter; a world refused because of
//     the others' use gets ENFILE (the system-wide table is full), as does anyone when
//     the whole pool (limit - reserve - descriptors the inode table holds) is used up.
// Handles of unplaced callers (world 0) count only against the pool.
// Thread-safe. Admit() is pure arithmetic; the limit is read again on every Acquire so
// that a limit lowered while running (prlimit) is obeyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace sptfs {

class FdBudget {
 public:
  // `per_world`: handles one world may hold; 0 = a quarter of (limit - reserve).
  explicit FdBudget(size_t per_world = 0) : per_world_(per_world) {}
  FdBudget(const FdBudget&) = delete;
  FdBudget& operator=(const FdBudget&) = delete;

  struct Limits {
    size_t reserve;    // never given to handles
    size_t per_world;  // one world's budget
    size_t worlds;     // all worlds together
  };
  static Limits LimitsFor(size_t limit, size_t per_world);

  // Takes one handle slot for `world` (0: an unplaced caller) given the descriptor limit
  // and the descriptors held outside this budget (`other`): 0, EMFILE or ENFILE.
  // `first` (may be nullptr): set to whether this refusal is the first since the world
  // (or, for world 0, anyone) last got a slot, so that a refusal is recorded once.
  int Admit(uint64_t world, size_t limit, size_t other, bool* first = nullptr);
  // Admit() with the process's current RLIMIT_NOFILE.
  int Acquire(uint64_t world, size_t other, bool* first = nullptr);
  // Gives back a slot taken by Admit/Acquire.
  void Release(uint64_t world);
  // The slot taken for `world` is now held by descriptor `fd` (a file handle); the
  // slot is given back by ReleaseFd(fd).
  void Bind(int fd, uint64_t world);
  void ReleaseFd(int fd);

  // Whether the inode table may open one more O_PATH fd (it holds `other` now) without
  // taking the reserve, given the current RLIMIT_NOFILE.
  bool TableMayGrow(size_t other) const;

  size_t held() const;  // handles held, all callers
  size_t held_by(uint64_t world) const;

 private:
  const size_t per_world_;
  mutable std::mutex mu_;
  size_t total_ = 0;                             // every handle
  size_t in_worlds_ = 0;                         // handles of worlds (world != 0)
  std::unordered_map<uint64_t, size_t> worlds_;  // per world, while it holds any
  std::unordered_map<int, uint64_t> fds_;        // file handle -> its world
  std::unordered_set<uint64_t> refused_;         // refused since their last slot
};

}  // namespace sptfs
