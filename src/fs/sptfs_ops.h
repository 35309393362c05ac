// The FUSE low-level operations of sptfs: thin translation from requests to fd-relative
// calls on the backing maps, with the policy check of docs/sptfs.md "What is checked" in
// front of every mediated operation. Pass an SptFs as the session's userdata and
// SptFs::Ops() as its operation table.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

#include "fs/access_check.h"
#include "fs/fd_budget.h"
#include "fs/fd_reclaim.h"
#include "fs/inode_table.h"

namespace sptfs {

struct FsOptions {
  double timeout = 1.0;     // entry and attribute timeout given to the kernel (seconds)
  bool writeback = false;   // kernel writeback cache
  std::string socket_path;  // answered for getxattr("user.sptfs.socket") on the root
  size_t fd_budget = 0;     // open handles per world; 0 = automatic (fd_budget.h)
};

// The virtual attribute on the mount's root that names the daemon's control socket.
inline constexpr const char* kSocketXattr = "user.sptfs.socket";

class SptFs {
 public:
  SptFs(InodeTable* table, AccessChecker* checker, FsOptions options)
      : table_(table),
        checker_(checker),
        options_(std::move(options)),
        budget_(options_.fd_budget) {}
  static const fuse_lowlevel_ops& Ops();

  InodeTable& table() { return *table_; }
  AccessChecker& checker() { return *checker_; }
  const FsOptions& options() const { return options_; }
  // Open file and directory handles, per world (fd_budget.h).
  FdBudget& budget() { return budget_; }
  // Takes a handle slot for the caller `s`: 0, EMFILE (its world's budget is used up)
  // or ENFILE (the daemon's descriptors are, down to the reserve). *world is what
  // Release/Bind need.
  int AcquireHandle(const Subject& s, uint64_t* world);
  // The thread that gives back fds of nodes the kernel no longer uses (may be unset).
  void set_reclaimer(FdReclaimer* r) { reclaimer_.store(r); }
  void PokeReclaimer() {
    if (FdReclaimer* r = reclaimer_.load()) r->Poke();
  }
  // After a FORGET's reply: gives freed memory back when the table says it is time.
  void TrimIfWanted();

 private:
  InodeTable* table_;
  AccessChecker* checker_;
  FsOptions options_;
  // The world of a placed caller (WorldOf in sptfs_ops.cc).
  uint64_t WorldOfCaller(const Subject& s);

  FdBudget budget_;
  std::atomic<FdReclaimer*> reclaimer_{nullptr};
  // Worlds by thread id: finding one reads the namespace chain (about 25 us), and a
  // thread never changes its PID namespace. An entry counts only for the same process
  // and domain, so a reused thread id is looked up again (one that matches both, a
  // reused pid placed in the same domain, at worst bills the wrong world's budget).
  struct WorldEntry {
    pid_t pid;
    DomainId domain;
    uint64_t world;
  };
  std::mutex worlds_mu_;
  std::unordered_map<pid_t, WorldEntry> worlds_;
};

}  // namespace sptfs
