// Gives back the O_PATH fds of nodes the kernel no longer uses (issue 20 item 4). The
// inode table keeps an fd for every directory and hard link the kernel knows, and the
// kernel keeps inodes it looked up until memory runs short, long after anyone used them:
// a world that looks up many directories would make the daemon hold one fd each. When
// the table holds more than half of (limit - reserve) fds, a thread of its own (never a
// FUSE worker: the kernel takes the directory's lock to drop an entry) asks the kernel
// to drop cached entries of fd-holding nodes (fuse_lowlevel_notify_inval_entry) until
// it is back under a quarter. Entries in use (a cwd, an open file) stay; the others are
// forgotten, and FORGET closes their fds. Dropping an entry only costs a new lookup.
#pragma once

#include <fuse_lowlevel.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "fs/fd_budget.h"
#include "fs/inode_table.h"

namespace sptfs {

class FdReclaimer {
 public:
  FdReclaimer(fuse_session* se, const InodeTable* table);
  ~FdReclaimer();  // stops the thread
  FdReclaimer(const FdReclaimer&) = delete;
  FdReclaimer& operator=(const FdReclaimer&) = delete;

  // The high mark, for a limit of `limit` fds (and the low one is half of it).
  static size_t HighMark(size_t limit);
  // Wakes the thread now (a lookup found the table full).
  void Poke();

 private:
  void Loop();
  void ReclaimOnce();

  fuse_session* se_;
  const InodeTable* table_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
  size_t cursor_ = 0;  // where the next round starts among the fd holders (Loop only)
  std::thread thread_;
};

}  // namespace sptfs
