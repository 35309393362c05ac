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
  int threads = 0;             // most FUSE worker threads; 0 = one per CPU (at least 2)
  int clone_fd = -1;           // 1, -1 (not given): a /dev/fuse fd per worker; 0: shared
  int max_idle_threads = -1;   // end workers while more are idle; -1 = keep them all
  int poll_us = -1;            // the reader polls /dev/fuse this long; -1 = the default
  size_t fd_budget = 0;        // open handles per world; 0 = automatic (src/fs/fd_budget.h)
  bool io_uring = false;       // FUSE over io_uring where the kernel offers it
};

// Parses a TOML mount config file. Relative paths in it are taken relative to the
// file's directory. On error *out is untouched.
Status LoadMountConfig(const std::string& file, MountConfig* out);

// "/a//b/" -> "/a/b"; fails unless absolute and free of "." and ".." components.
Status NormaliseTreePath(const std::string& path, std::string* out);

// Checks the maps (absolute `at`, no duplicates) and sorts them.
Status CheckMaps(std::vector<MapSpec>* maps, const std::string& where);

// The components of absolute path `path` ("/a/b" -> {"a", "b"}; "/" -> {}).
std::vector<std::string> PathComponents(const std::string& path);

// Merged /usr (docs/sptfs.md, "Merged /usr"): a map whose source is a host symlink
// (Debian's /bin -> usr/bin) appears in the tree as a symlink, so that /bin/true and
// /usr/bin/true are one path for the policy. For each of `maps`: the target of that
// tree symlink, relative to the map point's directory ("usr/bin" for a map at /bin), or
// "" to show the directory itself (the source is no symlink, the map is at "/", or no
// other map shows the directory it resolves to at the tree path found for it).
// `real[i]`: maps[i].source with every symlink resolved (realpath); `is_link[i]`:
// maps[i].source itself is a symlink. Pure: looks at nothing on disk.
std::vector<std::string> TreeLinks(const std::vector<MapSpec>& maps,
                                   const std::vector<std::string>& real,
                                   const std::vector<bool>& is_link);

// `to` relative to directory `from` (both normalised absolute): "/" "usr/bin" for
// "/usr/bin", "/a/b" "../c" for "/a/c", "." when they are equal.
std::string RelativeTreePath(const std::string& from, const std::string& to);

}  // namespace sptfs
