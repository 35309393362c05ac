#include "control/why_daemon.h"

#include <sys/xattr.h>

#include "explain/why_command.h"
#include "sandbox/landlock_apply.h"

namespace sptfs {

int RunWhyInDaemon(const DaemonContext& ctx, const std::vector<std::string>& operands,
                   std::string* out, std::string* err) {
  if (ctx.policy == nullptr || ctx.tree == nullptr) {
    *err += "spt: --why: this sptfs has no policy or tree to explain against\n";
    return 1;
  }
  auto policy = ctx.policy->Current();
  WhySources src;
  src.policy = policy.get();
  src.tree = ctx.tree;
  if (ctx.tracker != nullptr) {
    src.domain_of_pid = [&](pid_t pid, DomainId* domain) {
      CallerInfo c = ctx.tracker->Identify(pid, policy->default_domain());
      if (!c.identified) return Status::NotFound("no such process visible to sptfs");
      *domain = c.domain;
      return Status::Ok();
    };
  }
  if (!ctx.mountpoint.empty() && !ctx.label_xattr.empty()) {
    src.label_of = [&](const std::string& canonical) {
      char buf[256];
      std::string file = ctx.mountpoint + (canonical == "/" ? "" : canonical);
      ssize_t n = lgetxattr(file.c_str(), ctx.label_xattr.c_str(), buf, sizeof(buf));
      if (n < 0) return kUnlabeledId;
      auto id = policy->FindLabel(std::string_view(buf, static_cast<size_t>(n)));
      return id ? *id : kMaxId + 1;  // garbage: a label no rule grants
    };
  }
  RealHostView host;  // the daemon sees the host as spt-run does
  src.host = &host;
  src.mount = ctx.mountpoint;
  src.landlock_abi = LandlockAbi();
  return RunWhy(operands, src, out, err);
}

}  // namespace sptfs
