// The policy set as written: labels, domains and their rules, default labels.
// Plain data produced by the loader (loader.h) and consumed by the compiler
// (compiler.h). Nothing here touches the file system.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/perms.h"

namespace sptfs {

using DomainId = uint32_t;
using LabelId = uint32_t;
inline constexpr LabelId kUnlabeledId = 0;
inline constexpr std::string_view kUnlabeledName = "unlabeled";
// Ids of domains and labels are in [0, kMaxId].
inline constexpr uint32_t kMaxId = 65535;

enum class Level { kEnforcing, kWarning, kDisabled };
std::string_view LevelName(Level level);  // "enforcing", "warning", "disabled"
bool ParseLevel(std::string_view text, Level* out);

// Where a piece of policy came from, for "file:line: ..." errors.
struct SourceLocation {
  std::string file;
  int line = 0;
  std::string ToString() const;  // "file:line"
};

// One rule in the seed's syntax. Which fields are set depends on kind.
enum class RuleKind {
  kCapability,  // -c NAME grant
  kTransition,  // -d LABEL DOMAIN file_exec grant
  kNetwork,     // -p OP SCOPE grant
  kPath,        // -r PATH PERMS
  kObject,      // -o LABEL PERMS
  kSyscall,     // NAMESys grant
  kDontaudit,   // -r PATH PERMS dontaudit, -c NAME dontaudit, -p OP SCOPE dontaudit,
                // NAMESys dontaudit: grants nothing; such denials leave no record
};

struct Rule {
  RuleKind kind = RuleKind::kPath;
  std::string path;           // kPath: the path as written (absolute)
  Perms perms = kPermNone;    // kPath, kObject
  std::string label;          // kObject, kTransition
  std::string target_domain;  // kTransition
  std::string name;           // kCapability: capability; kNetwork: op; kSyscall: "genericSys"...
  std::string scope;          // kNetwork: "all", "loopback", "nonloopback"
  RuleKind silences = RuleKind::kPath;  // kDontaudit: the kind of rule whose denials it hides
  SourceLocation where;

  // The rule in the seed's syntax, exactly as `secpolicytools -d` prints it, e.g.
  // "-r /tmp rw", "-r /var/run/inetd.conf " (trailing space: empty perms),
  // "-c unix_socket_create grant", "genericSys grant", "-c unix_socket_create dontaudit".
  std::string ToString() const;
};

struct ObjectLabel {
  std::string name;
  LabelId id = 0;
  SourceLocation where;
};

struct DomainSpec {
  std::string name;
  DomainId id = 0;
  Level level = Level::kEnforcing;
  bool unconfined = false;  // like ESXi's superDom: every access allowed, nothing recorded
  std::vector<Rule> rules;  // in file order
  SourceLocation where;
  // Paths of -r rules meant to grant less than the rule they shadow (`narrows = [...]`):
  // `spt --check` does not warn about them. Empty-perm carve-outs need no entry.
  std::vector<std::string> narrows;
};

// New files under `path` (longest prefix wins) get `label`; also used by restore.
struct DefaultLabel {
  std::string path;
  std::string label;
  SourceLocation where;
};

// What the daemon does when a rule goes stale (a symlink on its path moved): warn only
// (ESXi's behaviour, the default), or reload the policy as `spt -p` does.
enum class OnStale { kWarn, kReload };

struct PolicySet {
  std::string dir;                  // where it was loaded from
  std::string default_domain;       // domain of processes nobody placed
  std::vector<ObjectLabel> labels;  // always contains "unlabeled" with id 0
  std::vector<DomainSpec> domains;
  std::vector<DefaultLabel> default_labels;
  OnStale on_stale = OnStale::kWarn;  // policy.toml's on_stale
};

}  // namespace sptfs
