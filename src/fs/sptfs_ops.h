// The FUSE low-level operations of sptfs: thin translation from requests to fd-relative
// calls on the backing maps, with the policy check of DESIGN.md "What is mediated" in
// front of every mediated operation. Pass an SptFs as the session's userdata and
// SptFs::Ops() as its operation table.
#pragma once

#include <fuse_lowlevel.h>

#include <string>

#include "fs/access_check.h"
#include "fs/inode_table.h"

namespace sptfs {

struct FsOptions {
  double timeout = 1.0;     // entry and attribute timeout given to the kernel (seconds)
  bool writeback = false;   // kernel writeback cache
  std::string socket_path;  // answered for getxattr("user.sptfs.socket") on the root
};

// The virtual attribute on the mount's root that names the daemon's control socket.
inline constexpr const char* kSocketXattr = "user.sptfs.socket";

class SptFs {
 public:
  SptFs(InodeTable* table, AccessChecker* checker, FsOptions options)
      : table_(table), checker_(checker), options_(std::move(options)) {}
  static const fuse_lowlevel_ops& Ops();

  InodeTable& table() { return *table_; }
  AccessChecker& checker() { return *checker_; }
  const FsOptions& options() const { return options_; }

 private:
  InodeTable* table_;
  AccessChecker* checker_;
  FsOptions options_;
};

}  // namespace sptfs
