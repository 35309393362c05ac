// What a confined world does to itself before its program runs (see docs/spt-run.md):
// a private mount namespace, optionally the mounted tree as "/", a fresh /proc, a
// minimal /dev, and the loss of every privilege that could undo the confinement.
// Called by the world's first process, inside its new PID and mount namespaces.
#pragma once

#include <vector>

#include "options.h"
#include "sandbox/sandbox_rules.h"
#include "util/status.h"

namespace sptfs {

// Makes every mount private (slave without `tree`: nothing we do leaks to the host), then, with
// `tree` not empty, pivots into it and detaches the old root so the host's files, the backing store
// included, have no path any more. Mounts a fresh /proc (its sysctls read-only) over the tree's
// /proc and a tmpfs with null, zero, full, random, urandom, tty over its /dev, when the tree has
// those directories. Without `tree`, only /proc is renewed.
Status EnterTree(const std::string& tree, bool mount_proc);

// Keeps only the capabilities in `kept` (KeptCapabilities): every other one the kernel
// knows (cap_last_cap, so ones newer than this program too) leaves the bounding set,
// the permitted and effective sets keep only `kept`, the inheritable and ambient sets
// are emptied, and no_new_privs is set, so neither this process nor anything it
// executes (setuid binaries and file capabilities included) gets any other.
Status DropPrivileges(const std::vector<int>& kept);

// A seccomp filter (needs no_new_privs, so call it after DropPrivileges) that fails with
// EPERM every call that reads or steers another process's memory or files: ptrace,
// process_vm_readv/writev, pidfd_getfd, open_by_handle_at (within one world a process
// could otherwise take over one that an exec transition moved to another domain), and
// the terminal ioctls TIOCSTI and TIOCLINUX (typing into the caller's terminal).
Status DenyTracing();

// The capabilities a world keeps (docs/spt-run.md says why each), from the domains it
// can be in (`reachable`: its own and those it can enter, as PlanFromDaemon gives them):
// what a root program needs to act as root on files and identities (chown,
// dac_override, fowner, fsetid, setuid, setgid, kill), plus net_bind_service when one
// of them may bind inet sockets (-p inet_socket_bind) or is unconfined, and net_raw when
// one is unconfined (confined domains get no raw sockets anyway). Sorted. Pure.
std::vector<int> KeptCapabilities(const std::vector<SandboxRules>& reachable);

// setgroups, setresgid, setresuid; after it a non-root user has no capabilities at all.
Status SwitchUser(const RunIdentity& id);

}  // namespace sptfs
