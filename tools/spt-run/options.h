// spt-run's command line, parsed into plain data (no side effects, so it is unit-tested).
//
//   spt-run -D DOMAIN [--mount DIR | --socket PATH] [--root [--no-proc]] [--user USER] [--cwd DIR]
//           [--kill-after SECONDS] -- CMD ARGS...
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace sptfs {

struct RunOptions {
  std::string domain;    // name or numeric id, as the daemon's `place` command takes it
  std::string mount;     // the mounted tree (also picks the socket if --socket is absent)
  std::string socket;    // the daemon's control socket
  bool root = false;     // the mounted tree becomes "/" for the program
  bool no_proc = false;  // no /proc at all in the world (docs/THREAT-MODEL.md says why)
  std::string user;      // "" = keep the caller's identity
  // No Landlock layer: host paths are not confined (spt-run says so on stderr).
  bool no_landlock = false;
  std::string cwd;  // "" = "/" with --root, else the current directory
  // Seconds after a forwarded stop signal (TERM, INT, HUP, QUIT) before spt-run kills the
  // world with SIGKILL; 0 = only a second stop signal escalates (docs/spt-run.md).
  int kill_after = 10;
  std::vector<std::string> command;
  bool help = false;
  bool version = false;
};

// Fails with a message naming the offending argument and what was expected.
Status ParseRunOptions(const std::vector<std::string>& args, RunOptions* out);

const char* RunUsage();

// Who the program runs as after --user (resolved before entering the tree, where the
// host's user database is out of reach).
struct RunIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// USER is a name from the user database or a numeric uid (then gid = uid, no groups).
Status ResolveUser(const std::string& user, RunIdentity* out);

}  // namespace sptfs
