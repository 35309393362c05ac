#include "fs/caller_creds.h"

#include <sys/syscall.h>
#include <unistd.h>

namespace sptfs {
namespace {

constexpr int kMaxGroups = 64;  // more than that: the first 64 (as NFS AUTH_SYS keeps 16)

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

}  // namespace sptfs
