#include "sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace sptfs {
namespace {

Status Fail(const std::string& what) { return Status::Io(errno, what); }

bool IsDir(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// Binds `path` onto itself read-only (the remount makes the lock stick: a mount
// inherited by a less privileged namespace cannot be made writable again).
Status ReadOnlyBind(const char* path) {
  if (access(path, F_OK) != 0) return Status::Ok();
  if (mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
      mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
            nullptr) != 0) {
    return Fail(std::string("cannot make ") + path + " read-only");
  }
  return Status::Ok();
}

// A fresh /proc shows only this PID namespace. Sysctls and sysrq stay read-only: a
// confined root could otherwise write e.g. kernel.core_pattern and run code outside.
Status MountProc() {
  if (!IsDir("/proc")) return Status::Ok();
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return Fail("cannot mount a fresh /proc");
  }
  for (const char* p : {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"}) {
    if (Status s = ReadOnlyBind(p); !s.ok()) return s;
  }
  return Status::Ok();
}

// The host's /dev would hand a confined root the raw disks (and so the backing store).
Status MountDev() {
  if (!IsDir("/dev")) return Status::Ok();
  if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") != 0) {
    return Fail("cannot mount a tmpfs on /dev");
  }
  struct Node {
    const char* name;
    unsigned major, minor;
  };
  for (Node n : {Node{"null", 1, 3}, Node{"zero", 1, 5}, Node{"full", 1, 7}, Node{"random", 1, 8},
                 Node{"urandom", 1, 9}, Node{"tty", 5, 0}}) {
    std::string path = std::string("/dev/") + n.name;
    if (mknod(path.c_str(), S_IFCHR | 0666, makedev(n.major, n.minor)) != 0 ||
        chmod(path.c_str(), 0666) != 0) {
      return Fail("cannot create " + path);
    }
  }
  return Status::Ok();
}

}  // namespace

Status EnterTree(const std::string& tree, bool mount_proc) {
  // Without a tree of its own the world follows the host's mounts (a daemon restarted
  // and mounted again is seen); with one, nothing from the host may appear in it.
  unsigned long propagation = tree.empty() ? MS_SLAVE : MS_PRIVATE;
  if (mount(nullptr, "/", nullptr, MS_REC | propagation, nullptr) != 0) {
    return Fail("cannot make the mounts private");
  }
  if (tree.empty()) return MountProc();
  if (chdir(tree.c_str()) != 0) return Fail("cannot enter " + tree);
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves
  // no path back to the host (unlike chroot, which leaves the old root underneath).
  if (syscall(SYS_pivot_root, ".", ".") != 0) {
    return Fail("cannot make " + tree + " the root (expected the sptfs mount point)");
  }
  if (umount2(".", MNT_DETACH) != 0) return Fail("cannot detach the host's root");
  if (chdir("/") != 0) return Fail("cannot enter the new root");
  if (mount_proc) {
    if (Status s = MountProc(); !s.ok()) return s;
  }
  return MountDev();
}

std::vector<int> KeptCapabilities(const std::vector<SandboxRules>& reachable) {
  std::set<int> kept = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
                        CAP_SETUID, CAP_SETGID,       CAP_KILL};
  for (const SandboxRules& d : reachable) {
    bool binds = d.unconfined;
    for (const auto& [op, scope] : d.network) binds = binds || op == "inet_socket_bind";
    if (binds) kept.insert(CAP_NET_BIND_SERVICE);
    if (d.unconfined) kept.insert(CAP_NET_RAW);
  }
  return {kept.begin(), kept.end()};
}

Status DropPrivileges(const std::vector<int>& kept) {
  std::set<int> keep(kept.begin(), kept.end());
  // Every capability this kernel knows, not only those this program was built with.
  int last = CAP_LAST_CAP;
  if (FILE* f = std::fopen("/proc/sys/kernel/cap_last_cap", "r")) {
    if (std::fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
    std::fclose(f);
  }
  for (int cap = 0; cap <= last; ++cap) {
    if (keep.count(cap) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return Fail("cannot drop a capability");
  }
  cap_t now = cap_get_proc();
  cap_t state = cap_init();  // everything clear
  bool ok = now != nullptr && state != nullptr;
  for (int cap : kept) {
    cap_flag_value_t has = CAP_CLEAR;
    if (!ok || cap_get_flag(now, cap, CAP_PERMITTED, &has) != 0 || has != CAP_SET) continue;
    cap_value_t v = cap;
    ok = cap_set_flag(state, CAP_PERMITTED, 1, &v, CAP_SET) == 0 &&
         cap_set_flag(state, CAP_EFFECTIVE, 1, &v, CAP_SET) == 0;
  }
  ok = ok && cap_set_proc(state) == 0;
  if (now != nullptr) cap_free(now);
  if (state != nullptr) cap_free(state);
  if (!ok) return Fail("cannot drop capabilities");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return Fail("cannot clear the ambient capabilities");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Fail("cannot set no_new_privs");
  return Status::Ok();
}

Status DenyTracing() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);  // other architectures: killed
  if (ctx == nullptr) return Status::Io(ENOMEM, "cannot make a seccomp filter");
  int rc = 0;
  for (int nr : {SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
                 SCMP_SYS(pidfd_getfd), SCMP_SYS(open_by_handle_at)}) {
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
  }
  // Typing into the terminal spt-run shares with the caller's shell (TIOCSTI), or
  // the console's TIOCLINUX, would run commands outside the world after it ends.
  for (unsigned long req :
       {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    if (rc == 0) {
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                            // Not SCMP_A1: a C compound literal, not C++ (notify_filter.cc).
                            scmp_arg_cmp{1, SCMP_CMP_MASKED_EQ, 0xffffffffu, req});
    }
  }
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) return Status::Io(-rc, "cannot load the seccomp filter");
  return Status::Ok();
}

Status SwitchUser(const RunIdentity& id) {
  if (setgroups(id.groups.size(), id.groups.data()) != 0) return Fail("cannot set groups");
  if (setresgid(id.gid, id.gid, id.gid) != 0) return Fail("cannot set gid");
  if (setresuid(id.uid, id.uid, id.uid) != 0) return Fail("cannot set uid");
  return Status::Ok();
}

}  // namespace sptfs
