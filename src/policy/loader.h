// Loads a policy set from a directory of TOML files (format: docs/policy-language.md)
// and checks it: names, ids, references between labels and domains, rule syntax.
// Errors are "file:line: what is wrong (expected ...)"; on error *out is untouched.
#pragma once

#include <string>

#include "policy/model.h"
#include "util/status.h"

namespace sptfs {

Status LoadPolicySet(const std::string& dir, PolicySet* out);

}  // namespace sptfs
