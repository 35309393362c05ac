// Reading what a notified call refers to inside the calling process: its memory (the
// socket address), the socket behind a descriptor number, its ids. The caller is
// stopped in the system call while we read, but other threads of it are not: whatever
// is read may change right after (docs/syscall-classes.md, "TOCTOU").
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "sandbox/socket_address.h"

namespace sptfs {

// Copies `len` bytes at `addr` in thread `tid`'s address space; false if unreadable.
bool ReadTargetMemory(pid_t tid, uint64_t addr, void* buf, size_t len);

// Family and type (flags masked) of descriptor `fd` of thread `tid`, and, if `local` is
// given, the address it is bound to; false if it is not a socket or cannot be reached.
bool TargetSocket(pid_t tid, int fd, int* family, int* type, SocketAddress* local = nullptr,
                  int kept_pidfd = -1);

struct TargetIds {
  pid_t tgid = 0;     // in our PID namespace
  pid_t ppid = 0;     // in our PID namespace
  pid_t ns_tgid = 0;  // in its own (innermost) PID namespace
  pid_t ns_tid = 0;
};
bool ReadTargetIds(pid_t tid, TargetIds* out);

// Device and inode of /proc/PID/exe ("" if gone), to compare two programs.
std::string ExeIdentity(pid_t pid);

}  // namespace sptfs
