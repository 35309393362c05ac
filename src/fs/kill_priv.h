// What a file loses when it is changed through the mount. sptfs asks for
// FUSE_CAP_HANDLE_KILLPRIV, so the kernel no longer refreshes a file's attributes before
// every chown (one GETATTR round trip per chown) and leaves the clearing of set-user-ID
// and set-group-ID bits to the daemon. The daemon writes as root (CAP_FSETID), so the
// backing store would keep those bits for it; these helpers clear them as the kernel
// would for the caller (fs/attr.c, setattr_should_drop_suidgid):
//  - write, truncate, fallocate, copy_file_range of a regular file, by a caller without
//    CAP_FSETID: S_ISUID; S_ISGID if group-executable or the caller is not in the
//    file's group. Done BEFORE the data changes (as the kernel does), so no one can run
//    the changed file with its old rights in between.
//  - chown of anything but a directory, by anyone: S_ISUID; S_ISGID if group-executable.
//  - the security.capability attribute (a file capability) goes on every write-like
//    change (removed here too, one fremovexattr) and on every chown. The kernel asks for
//    that itself (GETXATTR, REMOVEXATTR through the mount; under HANDLE_KILLPRIV_V2 only
//    at the first write after an attribute refresh), and the backing store removes
//    it on any write, truncate or chown whoever makes it (only set-id bits depend on the
//    writer's CAP_FSETID). After a chown the daemon leaves it to those two: a removal by
//    path (/proc/self/fd) costs about 4.6 us per chown here, 2% of a tar x file.
// Writes the kernel makes of a shared mapping's pages count too (they come without the
// writer's pid, so as a caller without CAP_FSETID): stricter than the kernel, which
// clears nothing at a page fault. A daemon that is not root clears what it may; the
// backing store then clears the rest at its own write (the daemon lacks CAP_FSETID).
// "Without CAP_FSETID": any caller whose uid is not 0, and a uid-0 caller whose
// effective set (/proc/TID/status) lacks it or cannot be read, or that is not in the
// daemon's user namespace (its status then shows its own namespace's capabilities; the
// kernel asks the initial one). An O_TRUNC open of an existing file clears through
// KillPrivBeforeWrite right after its truncate (src/fs/ops_open.cc). That file is read only
// when the file has a set-id bit to lose, so the common write costs one fstat and one
// fremovexattr.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

namespace sptfs {

// Before a write-like change of the file open as `fd` (a data fd, or an O_PATH fd when
// `path_fd`): drops what the caller of `req` makes it lose. 0, or the errno of a failed
// clearing (the change must then not happen).
int KillPrivBeforeWrite(fuse_req_t req, int fd, bool path_fd);

// After a successful chown of the file open as O_PATH fd `fd`: clears the set-id bits a
// chown clears (the backing store's chown has cleared them and the capability already;
// this does not depend on it). 0 or the errno.
int KillPrivAfterChown(int fd);

}  // namespace sptfs
