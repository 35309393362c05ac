// The mount configuration: which host directories appear where in the mounted tree,
// and the daemon's settings. Comes from `sptfs SOURCE MOUNTPOINT [options]` (one map at
// "/") or from a TOML file (`sptfs --config FILE MOUNTPOINT`, format in docs/sptfs.md).
// Command-line options override the file. Errors: "file:line: what is wrong (expected ...)".
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace sptfs {

struct MapSpec {
  std::string at;      // absolute, normalised ("/" or "/a/b", no trailing slash)
  std::string source;  // host directory
  bool read_only = false;
  int line = 0;  // where it was written (0: command line)
};

struct MountConfig {
  std::vector<MapSpec> maps;   // sorted by `at`; at most one per `at`
  std::string policy_dir;      // "" = no policy: nothing is mediated
  std::string label_xattr;     // "" = DefaultLabelXattr()
  std::string default_domain;  // "" = the policy set's default domain
  std::string audit_log;       // "" = stderr
  std::string socket;          // "" = DefaultSocketPath(mountpoint)
  int audit_rate = 200;        // audit records per second before rate limiting
  double cache_timeout = 1.0;  // entry/attr timeout (seconds) handed to the kernel
  bool writeback = false;      // kernel writeback cache
  int threads = 0;             // FUSE worker threads; 0 = one per CPU (at least 2)
  size_t fd_budget = 0;        // open handles per world; 0 = automatic (src/fs/fd_budget.h)
};

// Parses a TOML mount config file. Relative paths in it are taken relative to the
// file's directory. On error *out is untouched.
Status LoadMountConfig(const std::string& file, MountConfig* out);

// "/a//b/" -> "/a/b"; fails unless absolute and free of "." and ".." components.
Status NormaliseTreePath(const std::string& path, std::string* out);

// Checks the maps (absolute `at`, no duplicates) and sorts them.
Status CheckMaps(std::vector<MapSpec>* maps, const std::string& where);

}  // namespace sptfs
