// Online `spt --why`, answered inside sptfs over its live state: the policy snapshot in
// force (possibly compiled before a link moved, which is the point), the mounted tree,
// the domain tracker (for --pid) and the object labels. The control socket's `spt`
// command calls this for SptCommand::kWhy with the parsed operands.
#pragma once

#include <string>
#include <vector>

#include "control/daemon_context.h"

namespace sptfs {

// Same contract as RunWhy (why_command.h). Labels are read with lgetxattr through
// ctx.mountpoint (a getxattr is not mediated), so it must be called from a thread that
// does not serve FUSE requests (the control server's).
int RunWhyInDaemon(const DaemonContext& ctx, const std::vector<std::string>& operands,
                   std::string* out, std::string* err);

}  // namespace sptfs
