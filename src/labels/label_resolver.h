// What a raw label attribute means under a policy snapshot.
//
// Absent -> unlabeled (id 0). A value that is valid text and names a label the policy
// defines -> that label. Anything else (unknown name, bytes that are not printable
// ASCII/UTF-8 text, empty, too long) -> the error label "invalid", whose id no policy
// can define and therefore no rule grants: a garbled label never opens access.
#pragma once

#include <string_view>

#include "labels/label_xattr.h"
#include "policy/compiled_policy.h"

namespace sptfs {

inline constexpr std::string_view kInvalidLabelName = "invalid";
inline constexpr LabelId kInvalidLabelId = kMaxId + 1;  // outside every policy's id range

struct ResolvedLabel {
  LabelId id = kUnlabeledId;
  std::string_view name = kUnlabeledName;  // valid while the snapshot lives
};

ResolvedLabel ResolveLabel(const CompiledPolicy& policy, const RawLabel& raw);

// True if `value` could be a label name at all: 1..kMaxLabelBytes bytes of [A-Za-z0-9_.-].
bool IsLabelText(std::string_view value);

}  // namespace sptfs
