// Reads one audit log line (docs/audit.md: `key=value` pairs like SELinux's AVC; values
// in double quotes, or as upper-case hex when they hold spaces or odd bytes) into its
// fields. Words without '=' are kept by position among such words ("#0", "#1", ...),
// so "denied" in "...: denied { read } op=open" is "#0"; a "{ ... }" group is kept,
// space-joined, under "{}". Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace sptfs {

using AuditFields = std::map<std::string, std::string, std::less<>>;

// False if a quote is not closed (a truncated line); *out then holds what was read.
bool ParseAuditFields(std::string_view line, AuditFields* out);

// A value written as upper-case hex (the audit encoding of odd bytes) decoded; any
// other value unchanged. A plain path always starts with '/', so it is never hex.
std::string DecodeAuditValue(std::string_view value);

// The first of `keys` present in `f`, or "".
std::string_view FirstField(const AuditFields& f, std::initializer_list<std::string_view> keys);

}  // namespace sptfs
