// Parses one rule string in the seed's syntax (see model.h RuleKind) and lists every
// keyword the language knows (`spt -k` prints this table).
#pragma once

#include <string_view>
#include <vector>

#include "policy/model.h"
#include "util/status.h"

namespace sptfs {

// On error returns Invalid("file:line: what is wrong (expected ...)") using `where`.
// Checks syntax only; label and domain names are checked by the loader.
Status ParseRule(std::string_view text, const SourceLocation& where, Rule* out);

struct Keyword {
  std::string_view word;  // e.g. "-r", "grant", "inet_stream_socket_create", "genericSys"
  std::string_view
      kind;  // "rule", "capability", "network-op", "network-scope", "syscall-class", ...
  std::string_view summary;  // one line for `spt -k`
};
// The one table of keywords; the parser accepts exactly these.
const std::vector<Keyword>& Keywords();

}  // namespace sptfs
