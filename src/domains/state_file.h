// The tracker's placements on disk, so a daemon restart keeps every confined world and
// every exec transition. Text, one record per line:
//
//   sptfs-domains 1 boot=<boot id>
//   world <pidns inode> <leader pid> <leader start time> <domain id>
//   proc <pid> <start time> <domain id> <placed|transition|inherited|default>
//
// Pids and start times only mean something within one boot, so a file written before
// the last reboot loads as empty. Saving writes a temporary file and renames it over
// the old one: a crash leaves the old state or the new, never half of one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "policy/model.h"
#include "util/status.h"

namespace sptfs {

struct WorldRecord {
  uint64_t pidns = 0;  // inode of the world's PID namespace
  pid_t leader = 0;    // its first process (pid 1 inside), in the daemon's namespace
  uint64_t leader_start = 0;
  DomainId domain = 0;
};

// kPlaced: by Place(); kTransition: by an exec transition; kInherited: copied from the
// ancestor it was inherited from, so orphaning cannot lose it; kDefault: pinned to the
// default domain (a child forked before its parent's transition).
enum class ProcKind { kPlaced, kTransition, kInherited, kDefault };

struct ProcRecord {
  pid_t pid = 0;
  uint64_t start = 0;
  DomainId domain = 0;
  ProcKind kind = ProcKind::kPlaced;
};

struct TrackerState {
  std::vector<WorldRecord> worlds;
  std::vector<ProcRecord> procs;
};

// The current boot's id (/proc/sys/kernel/random/boot_id), "" if unknown.
std::string CurrentBootId();

// A missing file is an empty state. A malformed one is an error naming file:line and
// leaves *out empty. A file from another boot loads as empty.
Status LoadTrackerState(const std::string& path, const std::string& boot_id, TrackerState* out);
Status SaveTrackerState(const std::string& path, const std::string& boot_id,
                        const TrackerState& state);

}  // namespace sptfs
