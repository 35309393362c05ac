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

// Makes new objects under the caller's umask for a scope. sptfs asks for
// FUSE_CAP_DONT_MASK, so the kernel sends the mode the caller asked for, unmasked, with
// the caller's umask beside it; the backing store then applies that umask, or the
// parent's default ACL instead of it, exactly as for the caller. The daemon's own umask
// (inherited from whatever started it) never applies. The serving thread first gets an
// fs_struct of its own (unshare(CLONE_FS), once per thread), so the umask it sets is
// neither the process's nor another thread's; if that fails, error() is EIO and the
// caller must not create anything (the failure is logged once).
class CallerUmask {
 public:
  explicit CallerUmask(fuse_req_t req);
  ~CallerUmask();
  CallerUmask(const CallerUmask&) = delete;
  CallerUmask& operator=(const CallerUmask&) = delete;
  int error() const { return err_; }

 private:
  int err_ = 0;
  mode_t saved_ = 0;
};

}  // namespace sptfs
