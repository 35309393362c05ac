// `spt -p --dry-run --log AUDITLOG`: replays the access records of an audit log against
// the running policy and the one a load would bring, and says which recorded accesses
// would change outcome. Only denied and warned accesses are in the log (allowed ones are
// not recorded), so "would become denied" can only name warned ones. Pure: the log's
// text comes in as a string.
#pragma once

#include <string>
#include <string_view>

#include "policy/compiled_policy.h"

namespace sptfs {

// Appends one section to *out: "replay of LOG: N access records" then per record that
// changes (the same domain, access and path once, with a count):
//   "  would become allowed: globalVMDom(4) read PATH (2 records)"
//   "  would become denied:  vmDom(5) write PATH (1 record)"
// Returns the number of distinct accesses that change.
size_t ReplayAuditLog(std::string_view log_name, std::string_view log_text,
                      const CompiledPolicy& current, const CompiledPolicy& next, std::string* out);

}  // namespace sptfs
