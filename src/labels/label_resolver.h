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
  // True: no attribute is stored, the label is the policy's default label for the path
  // (ResolveLabelAt). False: it is the stored attribute's (or unlabeled).
  bool computed = false;
};

ResolvedLabel ResolveLabel(const CompiledPolicy& policy, const RawLabel& raw);

// The label of the object at canonical tree path `path` whose attribute is `raw`.
// `fixed`: the attribute cannot be written there (a read-only map), so restoring the
// default label is impossible; like SELinux's file_contexts, the default label of the
// path (default-labels.toml, longest prefix) is then computed here instead.
// Precedence: a stored attribute always wins (garbage stays "invalid", never replaced
// by a default); only an absent attribute on a fixed object gets the computed label.
ResolvedLabel ResolveLabelAt(const CompiledPolicy& policy, const RawLabel& raw,
                             std::string_view path, bool fixed);

// True if `value` could be a label name at all: 1..kMaxLabelBytes bytes of [A-Za-z0-9_.-].
bool IsLabelText(std::string_view value);

}  // namespace sptfs
