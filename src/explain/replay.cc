#include "explain/replay.h"

#include <map>
#include <sstream>
#include <tuple>

#include "explain/audit_fields.h"
#include "policy/decision.h"

namespace sptfs {
namespace {

// "read write execute" (the record's "{ ... }") as perms; false for other words.
bool AccessPerms(std::string_view words, Perms* out) {
  Perms perms = kPermNone;
  std::istringstream in{std::string(words)};
  for (std::string w; in >> w;) {
    if (w == "read") {
      perms |= kPermRead;
    } else if (w == "write") {
      perms |= kPermWrite;
    } else if (w == "execute") {
      perms |= kPermExec;
    } else if (w != "none") {
      return false;
    }
  }
  *out = perms;
  return true;
}

// "name(id)" -> id.
bool DomainOf(std::string_view field, DomainId* id) {
  size_t open = field.rfind('(');
  if (open == std::string_view::npos || field.size() < open + 3 || field.back() != ')')
    return false;
  std::string digits(field.substr(open + 1, field.size() - open - 2));
  if (digits.find_first_not_of("0123456789") != std::string::npos) return false;
  *id = static_cast<DomainId>(std::stoul(digits));
  return true;
}

bool Allowed(const CompiledPolicy& p, DomainId d, const std::string& path, LabelId label,
             Perms perms) {
  return Decide(p, d, path, label, perms).allowed();
}

}  // namespace

size_t ReplayAuditLog(std::string_view log_name, std::string_view log_text,
                      const CompiledPolicy& current, const CompiledPolicy& next, std::string* out) {
  using Key = std::tuple<bool, std::string, std::string, std::string>;  // allowed-now?, ...
  std::map<Key, int> changes;
  size_t records = 0;
  std::istringstream in{std::string(log_text)};
  for (std::string line; std::getline(in, line);) {
    AuditFields f;
    if (line.rfind("type=SPT_AVC ", 0) != 0 || !ParseAuditFields(line, &f)) continue;
    Perms perms = kPermNone;
    DomainId domain = 0;
    std::string path = DecodeAuditValue(FirstField(f, {"path"}));
    if (!AccessPerms(FirstField(f, {"{}"}), &perms) ||
        !DomainOf(FirstField(f, {"domain"}), &domain) || path.empty()) {
      continue;
    }
    ++records;
    std::string label_name(FirstField(f, {"label"}));
    LabelId label_now = current.FindLabel(label_name).value_or(kUnlabeledId);
    LabelId label_next = next.FindLabel(label_name).value_or(kUnlabeledId);
    bool before = Allowed(current, domain, path, label_now, perms);
    bool after = Allowed(next, domain, path, label_next, perms);
    if (before == after) continue;
    ++changes[{before, std::string(FirstField(f, {"domain"})), std::string(FirstField(f, {"{}"})),
               path}];
  }
  *out += "replay of " + std::string(log_name) + ": " + std::to_string(records) +
          (records == 1 ? " access record\n" : " access records\n");
  for (const auto& [key, count] : changes) {
    const auto& [was_allowed, domain, access, path] = key;
    *out += std::string(was_allowed ? "  would become denied:  " : "  would become allowed: ") +
            domain + " " + access + " " + path + " (" + std::to_string(count) +
            (count == 1 ? " record)\n" : " records)\n");
  }
  return changes.size();
}

}  // namespace sptfs
