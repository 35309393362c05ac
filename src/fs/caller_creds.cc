#include "fs/caller_creds.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace sptfs {
namespace {

constexpr int kMaxGroups = 64;  // more than that: the first 64 (as NFS AUTH_SYS keeps 16)

// 0 once this thread has an fs_struct (and so a umask) of its own, else the errno.
int OwnUmaskError() {
  thread_local int err = unshare(CLONE_FS) == 0 ? 0 : errno;
  static std::atomic<bool> logged{false};
  if (err && !logged.exchange(true)) {
    fprintf(stderr,
            "sptfs: unshare(CLONE_FS) failed (%s): the serving thread cannot take "
            "the caller's umask, so creating through the mount fails with EIO\n",
            strerror(err));
  }
  return err;
}

}  // namespace

CallerCreds::CallerCreds(fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  if (geteuid() != 0 || (ctx->uid == 0 && ctx->gid == 0)) return;
  gid_t groups[kMaxGroups];
  int n = fuse_req_getgroups(req, kMaxGroups, groups);
  if (n < 0) n = 0;
  if (n > kMaxGroups) n = kMaxGroups;
  syscall(SYS_setgroups, n, groups);
  syscall(SYS_setfsgid, ctx->gid);
  syscall(SYS_setfsuid, ctx->uid);
  switched_ = true;
}

CallerCreds::~CallerCreds() {
  if (!switched_) return;
  syscall(SYS_setfsuid, 0);
  syscall(SYS_setfsgid, 0);
  syscall(SYS_setgroups, 0, nullptr);  // the daemon itself needs no supplementary groups
}

CallerUmask::CallerUmask(fuse_req_t req) {
  if (OwnUmaskError()) {
    err_ = EIO;
    return;
  }
  saved_ = umask(fuse_req_ctx(req)->umask & 0777);
}

CallerUmask::~CallerUmask() {
  if (!err_) umask(saved_);
}

}  // namespace sptfs
