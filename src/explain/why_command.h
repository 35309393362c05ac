// The `spt --why` command over explain/why.h, shared by the offline tool and the daemon.
// Operands (docs/spt.md, docs/productlocker.md):
//   DOMAIN PATH [ACCESS]                  DOMAIN a name or id; ACCESS a subset of rwx (r)
//   --domain DOMAIN PATH [ACCESS]         the same, spelled as an option
//   --pid PID PATH [ACCESS]               the domain the process PID runs in now
//   [--label LABEL | -L LABEL]            anywhere: the object label to assume
//   [--host]                              anywhere: PATH as a world started without
//                                         --root sees it (why_host.h): under the mount,
//                                         the tree; elsewhere, the Landlock layer
// The caller supplies what it knows through WhySources (the daemon: its live snapshot,
// the mounted tree, its domain tracker and label store).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "policy/compiled_policy.h"
#include "policy/tree.h"
#include "sandbox/landlock_rules.h"
#include "util/status.h"

namespace sptfs {

struct WhyRequest {
  std::string domain;  // name or id; "" when pid is used
  pid_t pid = 0;       // > 0: ask for the domain of this process
  std::string path;
  Perms access = kPermRead;
  std::string label;  // "" = read the object's label (WhySources::label_of)
  bool host = false;  // --host
};

// Usage errors come back as Invalid with a one-line message.
Status ParseWhyOperands(const std::vector<std::string>& operands, WhyRequest* out);

struct WhySources {
  const CompiledPolicy* policy = nullptr;
  const TreeView* tree = nullptr;
  // Domain of a live process; unset: --pid is refused with a clear message.
  std::function<Status(pid_t, DomainId*)> domain_of_pid;
  // Label of the object at a canonical tree path; unset: unlabeled.
  std::function<LabelId(const std::string& canonical)> label_of;
  // For --host: the host as seen by spt-run (unset: --host is refused), the mount point
  // on it ("" offline: every path is a host path) and the kernel's Landlock ABI.
  HostView* host = nullptr;
  std::string mount;
  int landlock_abi = 0;
};

// Appends the explanation to *out, or "spt: ...\n" to *err. Returns 0 answered (allow or
// deny alike), 1 error (unknown domain or label, no such process), 2 usage.
int RunWhy(const std::vector<std::string>& operands, const WhySources& sources, std::string* out,
           std::string* err);

// For a command line with --why, --suggest or --import: keeps spt's connection options
// (--policy, --root, --mount, --socket, --json) in front and moves every other word
// after "--", so options only the explain commands know (--domain, --pid, --label, -L,
// --glob, --out) reach them as operands through ParseSptArgs:
//   {"--why", "--domain", "X", "/p", "--mount", "/m"} -> {"--mount", "/m", "--why", "--",
//   "--domain", "X", "/p"}. Any other command line comes back unchanged.
std::vector<std::string> RewriteExplainArgs(const std::vector<std::string>& args);

}  // namespace sptfs
