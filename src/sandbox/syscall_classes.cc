#include "sandbox/syscall_classes.h"

#include <seccomp.h>

#include <cstdlib>
#include <map>

namespace sptfs {

const std::vector<SyscallClass>& SyscallClasses() {
  // Why each call is where it is: docs/syscall-classes.md. Open/read/write stay generic:
  // file access is mediated by the file rules through the mount.
  static const std::vector<SyscallClass> kTable = {
      {"forkExecSys", {"fork", "vfork", "clone", "clone3", "execve", "execveat"}},
      {"openSys",
       {"open_by_handle_at", "name_to_handle_at", "mknod", "mknodat", "memfd_create",
        "memfd_secret"}},
      {"killSys",
       {"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal"}},
      {"socketSys",
       {"socket", "socketpair", "bind", "connect", "listen", "accept", "accept4", "sendto",
        "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockopt",
        "setsockopt", "getsockname", "getpeername"}},
      {"mountSys",
       {"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
        "fsmount", "fspick", "mount_setattr", "unshare", "setns"}},
      {"ptraceSys", {"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp"}},
      {"moduleSys",
       {"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load"}},
  };
  return kTable;
}

std::string_view ClassOfSyscall(int nr) {
  // Resolved once: libseccomp's name lookup is a linear scan, too slow per call.
  static const std::map<int, std::string_view> kByNumber = [] {
    std::map<int, std::string_view> m;
    for (const SyscallClass& c : SyscallClasses()) {
      for (std::string_view call : c.calls) {
        int n = seccomp_syscall_resolve_name(std::string(call).c_str());
        if (n != __NR_SCMP_ERROR) m.emplace(n, c.name);
      }
    }
    return m;
  }();
  auto it = kByNumber.find(nr);
  return it == kByNumber.end() ? kGenericSys : it->second;
}

std::string SyscallName(int nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (name == nullptr) return "?";
  std::string out = name;
  std::free(name);
  return out;
}

}  // namespace sptfs
