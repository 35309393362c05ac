// Acts as the caller of a FUSE request for the duration of a scope, so that files made
// through the mount belong to the caller (fsuid/fsgid) and the backing store's own
// permission checks see the caller's supplementary groups. Per thread: uses the raw
// setfsuid/setfsgid/setgroups system calls, which (unlike glibc's setgroups) change only
// the calling thread. A no-op when the daemon is not root or the caller is root:0.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

namespace sptfs {

class CallerCreds {
 public:
  explicit CallerCreds(fuse_req_t req);
  ~CallerCreds();
  CallerCreds(const CallerCreds&) = delete;
  CallerCreds& operator=(const CallerCreds&) = delete;

 private:
  bool switched_ = false;
};

}  // namespace sptfs
