// The audit log: one key=value line per denied or warned decision (like SELinux's AVC)
// and per policy event (load, reset, level change, domain creation, transition).
// Never blocks a request: lines go through a bounded queue to a writer thread; floods
// are rate limited and what was dropped is counted and reported in a later line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "domains/caller_info.h"
#include "policy/decision.h"
#include "util/status.h"

namespace sptfs {

struct AccessRecord {
  const Decision* decision = nullptr;  // verdict, warning, rule, domain
  Perms requested = kPermNone;
  std::string_view op;  // "open", "create", "unlink", "rename", "setxattr", ...
  const CallerInfo* caller = nullptr;
  std::string_view path;   // canonical path in the mounted tree
  std::string_view label;  // object label name
  uint64_t generation = 0;
  std::string_view hint;  // e.g. stale rule note; empty if none
  // Computes the hint instead (replacing `hint`), called only if the record is written:
  // a hint may cost dozens of lookups, which a flood over the rate limit must not pay.
  std::function<std::string()> make_hint;
};

struct AuditStats {
  uint64_t written = 0;
  uint64_t suppressed = 0;  // rate limited
  uint64_t lost = 0;        // write failed (disk full, unwritable)
};

class AuditLog {
 public:
  // `path` "" or "-": stderr. `max_per_second`: records beyond it are counted, not written.
  // `max_per_second` <= 0: no rate limit. Events (policy loads, level changes) are never
  // rate limited. An unopenable path fails here (daemon start), not later.
  static Status Open(const std::string& path, int max_per_second, std::unique_ptr<AuditLog>* out);
  // Same, with the queue bound in lines (at least 2): a full queue drops and counts.
  static constexpr size_t kDefaultQueueCapacity = 8192;
  static Status Open(const std::string& path, int max_per_second, size_t queue_capacity,
                     std::unique_ptr<AuditLog>* out);
  virtual ~AuditLog() = default;
  virtual void Access(const AccessRecord& record) = 0;
  // type=... then `fields` (already "k=v k=v").
  virtual void Event(std::string_view type, std::string_view fields) = 0;
  // An event a caller can make at will (a confined caller's `spt --audit-mark`): under
  // the access records' rate limit, so it cannot fill the disk; false if it was only
  // counted (reported like suppressed records).
  virtual bool LimitedEvent(std::string_view type, std::string_view fields) = 0;
  virtual AuditStats Stats() const = 0;
  virtual void Flush() = 0;  // waits until queued lines are written (tests, shutdown)
};

// Formats one access line (pure; used by AuditLog and tests). Format: docs/audit.md.
std::string FormatAccessRecord(const AccessRecord& record, std::string_view time);

// Value encodings for "k=v" fields (as the Linux audit subsystem does): AuditValue
// quotes a value, or writes it as upper-case hex if it holds a space, a quote, a control
// or a non-ASCII byte; AuditText allows spaces inside the quotes (rule text, messages).
std::string AuditValue(std::string_view value);
std::string AuditText(std::string_view value);
// "<seconds>.<milliseconds>" since the epoch, as in msg=audit(...).
std::string AuditTime(int64_t epoch_ms);

}  // namespace sptfs
