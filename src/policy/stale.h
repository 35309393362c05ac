// Stale rules as they happen: which symlinks the compiled -r rules went through (so the
// daemon can watch their directories), and, after a change in the tree, which rules
// now resolve elsewhere than they were compiled to. Pure: the tree comes in as a
// TreeView, the daemon's watcher (src/fs/stale_watcher.h) does the I/O and the audit.
// Not thread-safe: one watcher thread owns a StaleTracker.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "policy/compiled_policy.h"
#include "policy/tree.h"

namespace sptfs {

// One stale -r rule of one domain.
struct StaleFinding {
  DomainId domain = 0;
  std::string domain_name;
  size_t index = 0;  // into the domain's path_rules
  Rule source;       // as written (text, file:line)
  std::string compiled;
  std::string now;  // the source path's resolution now; "(symlink loop)" for a loop
};

// One change, as the audit record reports it: the rule (the same rule text, compiled
// and re-resolved alike, in several domains is one change) and every domain it is in.
struct StaleChange {
  std::string rule;  // "-r /productLocker r"
  std::string compiled;
  std::string now;
  std::vector<std::string> where;    // "file:line" per domain, in domain order
  std::vector<std::string> domains;  // "name(id)", same order
};

// Re-resolves `policy`'s -r rules in `tree` and returns the stale ones, in domain then
// rule order, with the links met on the way now (for the watch set) in *links_now.
std::vector<StaleFinding> ResolveStale(const CompiledPolicy& policy, const TreeView& tree,
                                       std::set<std::string>* links_now);

// The directories that hold the compiled rules' links: a change of a link shows as an
// event on its directory (create, delete, rename), whichever way it was made.
std::set<std::string> LinkDirectories(const CompiledPolicy& policy);
// The directory of a canonical path ("/" for "/x").
std::string ParentDirectory(const std::string& path);

class StaleTracker {
 public:
  // Follows `policy`. What was reported stays reported for the rules that `policy` still
  // has unchanged (same domain, position, text and compiled path: a level change), so a
  // new snapshot does not repeat a record; everything else starts over.
  void Reset(std::shared_ptr<const CompiledPolicy> policy);
  const CompiledPolicy* policy() const { return policy_.get(); }

  // Re-resolves every rule in `tree` and returns what changed since the last call: rules
  // that became stale or now resolve to yet another place. A rule that is fresh again
  // (the link moved back) is forgotten without a record. Grouped as StaleChange.
  std::vector<StaleChange> Recheck(const TreeView& tree);

  // The directories to watch now: those of the compiled links and of the links the last
  // Recheck met (a new target may hold links of its own).
  std::set<std::string> WatchDirectories() const;
  // The links behind WatchDirectories(): an event on one of these names means a recheck.
  std::set<std::string> WatchedLinks() const;

 private:
  std::shared_ptr<const CompiledPolicy> policy_;
  std::map<std::pair<DomainId, size_t>, std::string> reported_;  // rule -> `now` reported
  std::set<std::string> links_now_;
};

}  // namespace sptfs
