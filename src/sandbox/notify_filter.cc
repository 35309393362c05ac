#include "sandbox/notify_filter.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "sandbox/syscall_classes.h"

namespace sptfs {
namespace {

// Calls whose arguments the socket rules look at, whatever the plan says.
// listen() on an unbound inet socket binds it to every address (supervisor.cc).
constexpr std::string_view kSocketCalls[] = {"socket", "socketpair", "bind",    "connect",
                                             "listen", "sendmsg",    "sendmmsg"};

bool IsSocketCall(std::string_view name) {
  for (std::string_view s : kSocketCalls) {
    if (s == name) return true;
  }
  return false;
}

int Nr(std::string_view name) { return seccomp_syscall_resolve_name(std::string(name).c_str()); }

// Argument tests are written scmp_arg_cmp{arg, op, a, b}: libseccomp's SCMP_A<n> macros
// build a C compound literal, which C++ has only as an extension (clang-tidy's
// clang-diagnostic-c99-extensions).

// Adds one rule unless it would repeat the default action (libseccomp refuses those).
int Add(scmp_filter_ctx ctx, bool default_notify, bool notify, int nr, unsigned count = 0,
        scmp_arg_cmp cmp = {}) {
  if (nr == __NR_SCMP_ERROR || notify == default_notify) return 0;
  uint32_t action = notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ALLOW;
  return count == 0 ? seccomp_rule_add(ctx, action, nr, 0)
                    : seccomp_rule_add(ctx, action, nr, 1, cmp);
}

int AddClassRules(scmp_filter_ctx ctx, const FilterPlan& plan, bool default_notify) {
  int rc = 0;
  for (const SyscallClass& c : SyscallClasses()) {
    bool notify = plan.classes.count(c.name) > 0;
    for (std::string_view call : c.calls) {
      if (rc != 0) return rc;
      int nr = Nr(call);
      if (IsSocketCall(call) && (notify || plan.sockets)) {
        rc = Add(ctx, default_notify, true, nr);
      } else if (call == "sendto" && !notify && plan.sockets) {  // to an address: a connect
        rc = Add(ctx, default_notify, true, nr, 1, scmp_arg_cmp{4, SCMP_CMP_NE, 0, 0});
        if (rc == 0)
          rc = Add(ctx, default_notify, false, nr, 1, scmp_arg_cmp{4, SCMP_CMP_EQ, 0, 0});
      } else if (call == "clone3" && notify) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
      } else if (call == "clone" && notify && !default_notify) {
        // A new thread is a generic call; only a new process is forkExecSys.
        rc = Add(ctx, false, true, nr, 1, scmp_arg_cmp{0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0});
      } else {
        rc = Add(ctx, default_notify, notify, nr);
      }
    }
  }
  return rc;
}

// mmap of a file (not MAP_ANONYMOUS) with PROT_EXEC, and mprotect or pkey_mprotect
// asking for PROT_EXEC: the supervisor decides them as `x` accesses of the file.
int AddExecMapRules(scmp_filter_ctx ctx) {
  int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mmap), 2,
                            scmp_arg_cmp{2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC},
                            scmp_arg_cmp{3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0});
  for (int nr : {SCMP_SYS(mprotect), SCMP_SYS(pkey_mprotect)}) {
    if (rc == 0) {
      rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
                            scmp_arg_cmp{2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC});
    }
  }
  return rc;
}

// Loads `ctx` ourselves rather than with seccomp_load: libseccomp 2.5 cannot ask for
// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV. Without it, a signal that reaches a caller
// while the supervisor is deciding (SIGCHLD in a shell, say) makes fork() or connect()
// fail with EINTR, which programs do not expect.
int LoadWithListener(scmp_filter_ctx ctx) {
  int mem = memfd_create("sptfs-filter", MFD_CLOEXEC);
  if (mem < 0) return -errno;
  int rc = seccomp_export_bpf(ctx, mem);
  off_t size = lseek(mem, 0, SEEK_END);
  std::vector<sock_filter> code(size > 0 ? static_cast<size_t>(size) / sizeof(sock_filter) : 0);
  size_t bytes = code.size() * sizeof(sock_filter);
  if (rc == 0 &&
      (code.empty() || pread(mem, code.data(), bytes, 0) != static_cast<ssize_t>(bytes))) {
    rc = -EIO;
  }
  close(mem);
  if (rc != 0) return rc;
  sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
  long fd =
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
              SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
  if (fd < 0 && errno == EINVAL) {  // before Linux 5.19
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  }
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace

FilterPlan PlanFilter(const std::vector<SandboxRules>& domains) {
  FilterPlan plan;
  plan.sockets = false;
  plan.exec_maps = false;
  for (const SandboxRules& d : domains) {
    if (d.unconfined) continue;
    plan.sockets = true;
    plan.exec_maps = true;
    if (!d.has_syscall_rules()) continue;
    if (!d.syscall_classes.count(kGenericSys)) plan.classes.insert(std::string(kGenericSys));
    for (const SyscallClass& c : SyscallClasses()) {
      if (!d.syscall_classes.count(c.name)) plan.classes.insert(std::string(c.name));
    }
  }
  return plan;
}

std::string FormatPlan(const FilterPlan& plan) {
  std::string out;
  for (const std::string& c : plan.classes) out += (out.empty() ? "" : ",") + c;
  return out.empty() ? "-" : out;
}

Status ParsePlan(std::string_view text, FilterPlan* out) {
  FilterPlan plan;
  if (text != "-") {
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t comma = text.find(',', pos);
      std::string_view word =
          text.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
      bool known = word == kGenericSys;
      for (const SyscallClass& c : SyscallClasses()) known = known || c.name == word;
      if (!known) {
        return Status::Invalid("filter plan: unknown syscall class '" + std::string(word) +
                               "' (expected genericSys or a class of docs/syscall-classes.md)");
      }
      plan.classes.insert(std::string(word));
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
  }
  *out = std::move(plan);
  return Status::Ok();
}

Status LoadNotifyFilter(const FilterPlan& plan, int* listener) {
  bool default_notify = plan.classes.count(kGenericSys) > 0;
  scmp_filter_ctx ctx = seccomp_init(default_notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ALLOW);
  if (ctx == nullptr) return Status::Io(ENOMEM, "cannot make the sandbox's seccomp filter");
  int rc = AddClassRules(ctx, plan, default_notify);
  if (rc == 0 && plan.exec_maps && !default_notify) rc = AddExecMapRules(ctx);
  // The filter is loaded with seccomp(2) directly (LoadWithListener).
  // io_uring performs socket, connect and bind in the kernel without a system call the
  // filter could see: a world has none (programs fall back to ordinary calls).
  for (const char* name : {"io_uring_setup", "io_uring_enter", "io_uring_register"}) {
    int nr = Nr(name);
    if (rc == 0 && nr != __NR_SCMP_ERROR) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
  }
  int fd = rc == 0 ? LoadWithListener(ctx) : rc;
  seccomp_release(ctx);
  if (fd < 0) return Status::Io(-fd, "cannot load the sandbox's seccomp filter");
  *listener = fd;
  return Status::Ok();
}

}  // namespace sptfs
