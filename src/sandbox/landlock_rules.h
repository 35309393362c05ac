// The Landlock layer of a confined world (docs/spt-run.md, "Host paths: the Landlock
// layer"): from the -r, -d and -p rules of the policy's domains to the description of
// one Landlock ruleset. Pure: the only outside facts it uses come through a HostView
// (what exists at a path, what a directory holds), so tests give it a made-up host.
//
// Contract:
//  - The ruleset is the union of the domains reachable from the start domain by -d
//    transitions (Landlock can only narrow, so the launcher must hold what any later
//    domain may hold). A host path gets exactly the access the union grants when every
//    -r rule path is read as a host path (longest prefix per domain, then union), and
//    never more. Where a longer rule grants less than a shorter one (`-r /etc r` with
//    `-r /etc/shadow `), the shorter rule's access is spread over the directory's other
//    entries as they are when the plan is made; the directory itself and entries made
//    later keep only what is safe for every narrower rule below it (fail closed).
//  - The mount is granted in full (sptfs decides there); rules at or under it are
//    dropped. A reachable domain that is unconfined or not enforcing makes the plan
//    unconfined (nothing to restrict: Landlock cannot warn).
//  - Network: TCP bind or connect is denied in the kernel when no reachable domain has
//    any -p rule for that operation (Landlock cannot tell loopback from the rest: those
//    scopes stay with the seccomp supervisor). Scoping (ABI 6): abstract unix sockets
//    and signals outside the world are always refused (no rule of the language grants
//    them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/compiled_policy.h"
#include "policy/model.h"
#include "util/status.h"

namespace sptfs {

// Landlock access bits (the kernel's uapi values; defined here because the build
// host's headers may predate ABI 3).
namespace ll {
inline constexpr uint64_t kExecute = 1ull << 0;
inline constexpr uint64_t kWriteFile = 1ull << 1;
inline constexpr uint64_t kReadFile = 1ull << 2;
inline constexpr uint64_t kReadDir = 1ull << 3;
inline constexpr uint64_t kRemoveDir = 1ull << 4;
inline constexpr uint64_t kRemoveFile = 1ull << 5;
inline constexpr uint64_t kMakeChar = 1ull << 6;
inline constexpr uint64_t kMakeDir = 1ull << 7;
inline constexpr uint64_t kMakeReg = 1ull << 8;
inline constexpr uint64_t kMakeSock = 1ull << 9;
inline constexpr uint64_t kMakeFifo = 1ull << 10;
inline constexpr uint64_t kMakeBlock = 1ull << 11;
inline constexpr uint64_t kMakeSym = 1ull << 12;
inline constexpr uint64_t kRefer = 1ull << 13;     // ABI 2
inline constexpr uint64_t kTruncate = 1ull << 14;  // ABI 3
inline constexpr uint64_t kIoctlDev = 1ull << 15;  // ABI 5
inline constexpr uint64_t kMakeAny =
    kMakeChar | kMakeDir | kMakeReg | kMakeSock | kMakeFifo | kMakeBlock | kMakeSym;
// Rights that mean something on a file that is not a directory.
inline constexpr uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
inline constexpr uint64_t kNetBindTcp = 1ull << 0;         // ABI 4
inline constexpr uint64_t kNetConnectTcp = 1ull << 1;      // ABI 4
inline constexpr uint64_t kScopeAbstractUnix = 1ull << 0;  // ABI 6
inline constexpr uint64_t kScopeSignal = 1ull << 1;        // ABI 6
}  // namespace ll

// One domain as `landlock domains` gives it (docs/control-protocol.md).
struct LandlockDomain {
  std::string name;
  DomainId id = 0;
  Level level = Level::kEnforcing;
  bool unconfined = false;
  std::vector<std::pair<std::string, Perms>> paths;  // -r PATH PERMS, as written
  std::vector<std::string> transitions;              // DOMAIN of -d LABEL DOMAIN ...
  std::vector<std::string> network_ops;              // OP of -p OP SCOPE grant
};

// The rules the Landlock layer reads: -r (host paths), -d (which domains a world can
// reach) and -p (network operations): what the daemon's `landlock domains` reply
// carries, and the kinds LandlockDomainsOf keeps.
bool IsLandlockRule(const Rule& rule);

// Every domain of `policy` as the daemon's `landlock domains` reply gives it (rule paths
// as written: Landlock reads them as host paths). For `spt --why --host`.
std::vector<LandlockDomain> LandlockDomainsOf(const CompiledPolicy& policy);

// Parses the reply: blocks of "domain NAME ID LEVEL confined|unconfined" followed by
// -r, -d and -p rule lines. Errors say "landlock reply:LINE: what (expected ...)".
Status ParseLandlockDomains(std::string_view text, std::vector<LandlockDomain>* out);

// `start` (a name or decimal id) and every domain reachable from it by -d transitions,
// in id order. A transition to a domain the reply does not hold is an error (fail
// closed: we cannot know what it grants).
Status ReachableDomains(const std::vector<LandlockDomain>& all, const std::string& start,
                        std::vector<const LandlockDomain*>* out);

// What a -r permission set means for Landlock, limited to what `abi` knows:
// r: read_file, read_dir; w: write_file, truncate, make_*, remove_*, refer, ioctl_dev;
// x: execute.
uint64_t FsAccessOf(Perms perms, int abi);
// Every file-system right `abi` knows (what the ruleset handles).
uint64_t HandledFsAccess(int abi);

enum class HostKind { kMissing, kDirectory, kOther, kSymlink };

class HostView {
 public:
  virtual ~HostView() = default;
  // What `path` is, following symlinks (kSymlink is never returned).
  virtual HostKind Kind(const std::string& path) = 0;
  // Entry names of directory `dir` with their kind, not following symlinks (a
  // symlink entry is kSymlink). Empty if `dir` cannot be read.
  virtual std::vector<std::pair<std::string, HostKind>> List(const std::string& dir) = 0;
  // `path` with symlinks resolved as far as it exists, the rest appended lexically (what
  // the kernel reaches when Landlock's rule is added by opening the path). Default: as is.
  virtual std::string Resolve(const std::string& path) { return path; }
};

struct LandlockGrant {
  std::string path;
  uint64_t access = 0;
  bool operator==(const LandlockGrant& o) const { return path == o.path && access == o.access; }
};

struct LandlockPlan {
  bool confined = false;  // false: apply no ruleset (see `why_unconfined`)
  std::string why_unconfined;
  uint64_t handled_fs = 0;
  uint64_t handled_net = 0;  // TCP bind/connect with no port allowed
  uint64_t scoped = 0;
  std::vector<LandlockGrant> grants;  // depth-first, parents before children
};

// The plan for a world started in reachable[0]'s reach (see ReachableDomains), the
// mount at `mount` (absolute, as the world sees it: "/" with --root).
LandlockPlan PlanLandlock(const std::vector<const LandlockDomain*>& reachable,
                          const std::string& mount, int abi, HostView* view);

// Host access the plan's domains grant at `path` (the union of their longest -r
// prefixes), and the rules that decide it ("DOMAIN: -r PATH PERMS", one per domain
// whose rule covers it). For `spt --why` and tests.
Perms HostPermsAt(const std::vector<const LandlockDomain*>& reachable, std::string_view path,
                  std::vector<std::string>* deciding_rules);

// The same as data: per reachable domain whose -r rule covers `path`, that rule.
struct HostRuleMatch {
  std::string domain;
  std::string path;  // the rule path, as written
  Perms perms = kPermNone;
};
std::vector<HostRuleMatch> HostRulesAt(const std::vector<const LandlockDomain*>& reachable,
                                       std::string_view path);

// The rights `plan` gives at `path`: the union of its grants at `path` and at every
// directory above it (a right on a directory reaches everything beneath it), paths
// compared as `view` resolves them. What the kernel would allow there, for `spt --why`.
uint64_t PlannedAccessAt(const LandlockPlan& plan, const std::string& path, HostView* view);

}  // namespace sptfs
