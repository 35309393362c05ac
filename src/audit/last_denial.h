// The last file denial of each confined world, for the control command `last-denial`
// (docs/control-protocol.md): spt-run asks it when its program could not be executed, to
// say which file was refused (the loader, a script's interpreter) when it was not the
// program itself.
//
//   LastDenials denials;
//   denials.Record(decision, requested, "open", caller, path, label, policy);  // FUSE thread
//   DenialRecord r;
//   if (denials.Find(caller.world, &r)) reply = FormatDenial(r);
//
// Record() is on the denial path of every mediated request, so it only copies a few
// fixed-size fields under a short lock: no allocation, no formatting, no I/O. It keeps
// every denial of a world, also those the audit log's rate limit or a dontaudit rule
// keep out of the log (warnings are not denials: they are not kept). Bounded: at most
// kWorlds worlds, the one written least recently gives its slot to a new one.
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "domains/caller_info.h"
#include "policy/decision.h"

namespace sptfs {

struct DenialRecord {
  uint64_t world = 0;  // CallerInfo::world; 0 = an empty slot
  uint64_t count = 0;  // denials in this world so far
  uint64_t stamp = 0;  // order of writing (for reuse of the oldest slot)
  int64_t time_ms = 0;
  pid_t pid = 0;
  pid_t tid = 0;
  Perms requested = kPermNone;
  DomainId domain = 0;
  uint64_t generation = 0;
  bool label_limited = false;
  bool path_cut = false;  // the path was longer than `path` holds
  char op[16] = {};
  char path[1024] = {};
  char label[128] = {};
  char domain_name[64] = {};
  // The -r rule that decided, if any: valid while its policy snapshot lives (the rule's
  // text is read only when asked, so a reload meanwhile leaves "rule unknown").
  std::weak_ptr<const CompiledPolicy> policy;
  const CompiledPathRule* rule = nullptr;
};

class LastDenials {
 public:
  static constexpr size_t kWorlds = 128;

  // Keeps a denial (`d` not allowed) of a caller in a world; anything else is ignored.
  void Record(const Decision& d, Perms requested, std::string_view op, const CallerInfo& caller,
              std::string_view path, std::string_view label,
              const std::shared_ptr<const CompiledPolicy>& policy);
  // False if nothing is kept for `world`.
  bool Find(uint64_t world, DenialRecord* out) const;

 private:
  mutable std::mutex mu_;
  std::array<DenialRecord, kWorlds> slots_;
  uint64_t stamp_ = 0;
};

// `key=value` lines, one per field, as `last-denial` answers (docs/control-protocol.md):
// path, requested, op, label, domain, rule, time, pid, count. Control bytes in the path
// or label are written as '?', so every value stays on its line.
std::string FormatDenial(const DenialRecord& r);

}  // namespace sptfs
