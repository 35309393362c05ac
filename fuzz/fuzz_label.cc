// libFuzzer target: the label attribute parser (src/labels/label_resolver.h).
//
// The input is a raw label attribute value. It is resolved under the sample policy
// (policies/esxi, compiled once against a literal tree) as present and as absent.
// Contract checked: no crash or sanitizer report; the result is either a label the
// policy defines (and then the text is that label's exact name and IsLabelText holds),
// unlabeled (absent attribute only), or "invalid" with its out-of-range id.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "labels/label_resolver.h"
#include "policy/compiler.h"
#include "policy/loader.h"
#include "policy/tree.h"

namespace {

std::shared_ptr<const sptfs::CompiledPolicy> SamplePolicy() {
  const char* src = getenv("SPTFS_SOURCE");
  std::string dir = std::string(src ? src : SPTFS_SOURCE_DIR) + "/policies/esxi";
  sptfs::PolicySet set;
  if (!sptfs::LoadPolicySet(dir, &set).ok()) abort();
  std::shared_ptr<const sptfs::CompiledPolicy> compiled;
  std::vector<std::string> warnings;
  if (!sptfs::Compile(set, sptfs::LiteralTree(), 1, &compiled, &warnings).ok()) abort();
  return compiled;
}

void Check(const sptfs::CompiledPolicy& policy, const sptfs::RawLabel& raw) {
  sptfs::ResolvedLabel got = sptfs::ResolveLabel(policy, raw);
  if (!raw.present) {
    if (got.id != sptfs::kUnlabeledId) abort();
    return;
  }
  if (got.id == sptfs::kInvalidLabelId) {
    if (got.name != sptfs::kInvalidLabelName) abort();
    if (policy.FindLabel(raw.value).has_value() && sptfs::IsLabelText(raw.value)) abort();
    return;
  }
  if (got.name != raw.value || !sptfs::IsLabelText(raw.value)) abort();
  if (policy.FindLabel(raw.value) != got.id) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const sptfs::CompiledPolicy> policy = SamplePolicy();
  std::string value(reinterpret_cast<const char*>(data), size);
  (void)sptfs::IsLabelText(value);
  Check(*policy, sptfs::RawLabel{true, value});
  Check(*policy, sptfs::RawLabel{false, value});
  return 0;
}
