#include "policy/load_warnings.h"

namespace sptfs {

std::string FormatLoadWarnings(const std::vector<std::string>& warnings, const std::string& prog) {
  // ESXi logs one line per partially resolved rule path; a tree that lacks most of the
  // policy's paths would flood the terminal, so only the first few are shown.
  std::string out;
  for (size_t i = 0; i < warnings.size() && i < kShownLoadWarnings; ++i) {
    out += prog + ": " + warnings[i] + "\n";
  }
  if (warnings.size() > kShownLoadWarnings) {
    out += prog + ": ... and " + std::to_string(warnings.size() - kShownLoadWarnings) +
           " more partially resolved paths\n";
  }
  return out;
}

}  // namespace sptfs
