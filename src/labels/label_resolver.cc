#include "labels/label_resolver.h"

namespace sptfs {

bool IsLabelText(std::string_view value) {
  if (value.empty() || value.size() > kMaxLabelBytes) return false;
  for (char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

ResolvedLabel ResolveLabel(const CompiledPolicy& policy, const RawLabel& raw) {
  if (!raw.present) return ResolvedLabel{};
  ResolvedLabel invalid{kInvalidLabelId, kInvalidLabelName};
  if (!IsLabelText(raw.value)) return invalid;
  std::optional<LabelId> id = policy.FindLabel(raw.value);
  if (!id) return invalid;
  return ResolvedLabel{*id, policy.LabelName(*id)};
}

ResolvedLabel ResolveLabelAt(const CompiledPolicy& policy, const RawLabel& raw,
                             std::string_view path, bool fixed) {
  if (raw.present || !fixed) return ResolveLabel(policy, raw);
  LabelId id = policy.DefaultLabelFor(path);
  if (id == kUnlabeledId) return ResolvedLabel{};
  return ResolvedLabel{id, policy.LabelName(id), true};
}

}  // namespace sptfs
