// How load warnings ("Partially resolved path: P", one per rule path that does not fully
// exist in the tree) are shown, by the daemon at start and by `spt -p`: the first
// kShownLoadWarnings lines, then one "... and N more partially resolved paths" line, each
// line prefixed with the program's name. Diagnostics: the callers write it to stderr.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sptfs {

inline constexpr size_t kShownLoadWarnings = 10;

// "" for no warnings; otherwise newline-terminated lines, e.g. "sptfs: Partially ...\n".
std::string FormatLoadWarnings(const std::vector<std::string>& warnings, const std::string& prog);

}  // namespace sptfs
