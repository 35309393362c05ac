// What a daemon leaves in /run/sptfs (kSocketDir), and how it is kept clean: the control
// socket (or a --mount link to it), and the tracker's `<socket>.state` file. A daemon
// killed with SIGKILL leaves both; the next daemon to start removes what is stale, so
// `spt -l` never counts a daemon that is gone. Audit logs do not live here: daemon mode
// writes them to kLogDir, where logs are expected to stay.
#pragma once

#include <string>

namespace sptfs {

inline constexpr char kLogDir[] = "/var/log/sptfs";

// The default audit log of a daemon without --audit-log, in daemon mode:
// /var/log/sptfs/<socket name without .sock>.audit.log.
std::string DefaultAuditLog(const std::string& socket_path);

// True if the state file records a process or world that still runs (same pid and start
// time). A missing or unreadable file holds nothing alive.
bool StateHasLiveRecords(const std::string& state_path);

// Removes `state_path` if no process it records is alive: after a clean stop with no
// confined process left, nothing needs to survive a restart.
void RemoveStateIfIdle(const std::string& state_path);

// Removes, in kSocketDir, sockets and links that nobody answers on, and state files
// whose socket is dead and that record nothing alive. Errors are ignored: this is tidying.
void SweepRunDir();

}  // namespace sptfs
