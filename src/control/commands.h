// The commands the daemon runs for the control socket (the tools' side of each is a thin
// CallDaemon). Every command gets the caller's identity from the server (SO_PEERCRED +
// DomainTracker), never from its arguments. Reference: docs/control-protocol.md.
//
//   spt ARGS...                  secpolicytools options (queries and -p/-r/-N/-C/-T)
//   domain list                  the `Domain Name / Enforcement Level` table
//   domain set -n NAME -l LEVEL  | domain set --all -l LEVEL
//   domain tags                  VMCI tags recorded by `spt -T`
//   place PID DOMAIN             put a process tree in a domain (spt-run)
//   ps                           confined processes
//   info                         mount facts for tools (key=value lines)
//   label default PATH...        default label of each tree path
//   label check NAME             exit 0 if the policy defines label NAME
//   last-denial [PID]            the last file denial of the caller's (or PID's) world
//
// Who may: queries, info and label: anyone. Policy mutations (-p, -r, -N, -C, -T, domain
// set): an identified caller of uid 0 (or the daemon's uid) whose domain is unconfined or
// holds `policy_admin`. place: the same uid rule, domain unconfined or holding
// `domain_transition`; a confined caller may only place its own descendants, and not
// in an unconfined domain. last-denial: of the caller's own world, anyone identified;
// of another world, the place rule (a confined caller: its descendants' worlds only).
// Every mutation and every refused mutation writes an audit event.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <vector>

#include "control/daemon_context.h"
#include "control/protocol.h"
#include "util/status.h"

namespace sptfs {

// The caller of one control request.
struct Peer {
  pid_t pid = 0;  // from SO_PEERCRED (0: not visible from the daemon's PID namespace)
  uid_t uid = 0;
  gid_t gid = 0;
  CallerInfo info;  // from DomainTracker::Identify(pid)
};

struct VmciTag {
  std::string tag;
  std::string domain;
};

class CommandRunner {
 public:
  explicit CommandRunner(DaemonContext* ctx) : ctx_(ctx) {}
  // Thread-safe; never throws on bad input (errors come back in the Reply).
  Reply Run(const Peer& peer, const std::vector<std::string>& argv);

 private:
  Reply Spt(const Peer& peer, const std::vector<std::string>& args);
  Reply Domain(const Peer& peer, const std::vector<std::string>& args);
  Reply Place(const Peer& peer, const std::vector<std::string>& args);
  Reply Ps();
  Reply Info();
  Reply Label(const std::vector<std::string>& args);
  Reply LastDenial(const Peer& peer, const std::vector<std::string>& args);

  Reply Reload(const Peer& peer, const std::string& dir, bool reset);
  Reply DryRun(const Peer& peer, const std::string& dir, const std::string& log);
  Reply NewDomain(const Peer& peer, const std::string& name);
  Reply DeleteDomain(const Peer& peer, const std::string& name);
  Reply SetTag(const Peer& peer, const std::string& tag, const std::string& domain);
  Reply AuditMark(const Peer& peer, const std::string& text);
  Reply SetLevel(const Peer& peer, const std::string& name, bool all, const std::string& level);

  Status LimitConfinedPlacer(const Peer& peer, const CompiledPolicy& policy,
                             const CompiledDomain& target, pid_t pid, const std::string& what);
  Status LimitConfinedInspector(const Peer& peer, pid_t pid, const std::string& what);
  // OK if `peer` may use `capability`; otherwise audits the refusal of `what`.
  Status Authorize(const Peer& peer, std::string_view capability, std::string_view what);
  void Audit(std::string_view type, const Peer& peer, const std::string& fields);
  // Audit() under the audit log's rate limit (for what a caller can make at will);
  // false if the line was only counted.
  bool AuditLimited(std::string_view type, const Peer& peer, const std::string& fields);
  // The SPT_CONTROL_DENIED record of `what` (rate limited, the text cut short).
  void AuditRefusal(const Peer& peer, std::string_view what, std::string_view why);

  DaemonContext* ctx_;
  std::mutex tags_mu_;
  std::vector<VmciTag> tags_;
};

}  // namespace sptfs
