// The text layouts of secpolicytools and esxcli, byte for byte as in the seed
// (reference/esxi-daemon-sandboxing.txt). Spacing here is the seed's, not ours.
#include "policy/display.h"

#include <algorithm>

#include "policy/rule_parser.h"

namespace sptfs {

namespace {

// Display group of a rule: -c, -d, -p, -r as in the seed, then ours (-o, syscalls).
int GroupOf(RuleKind kind) {
  switch (kind) {
    case RuleKind::kCapability:
      return 0;
    case RuleKind::kTransition:
      return 1;
    case RuleKind::kNetwork:
      return 2;
    case RuleKind::kPath:
      return 3;
    case RuleKind::kObject:
      return 4;
    case RuleKind::kSyscall:
      return 5;
    case RuleKind::kDontaudit:
      break;  // shown with the kind it silences: see RuleGroup
  }
  return 5;
}
constexpr int kGroups = 6;

// A dontaudit rule is listed with the rules of the kind it silences.
int RuleGroup(const Rule& rule) {
  return GroupOf(rule.kind == RuleKind::kDontaudit ? rule.silences : rule.kind);
}

std::string Pad(std::string_view text, size_t width) {
  std::string out(text);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// The rule's text; a -r rule shows its compiled path when asked (ESXi shows compiled ones).
std::string RuleText(const CompiledDomain& d, const Rule& rule, size_t* path_index,
                     bool compiled_paths, const DomainLiveState& live) {
  if (rule.kind != RuleKind::kPath) return rule.ToString();
  size_t index = (*path_index)++;
  const CompiledPathRule& compiled = d.path_rules[index];
  Rule shown = rule;
  if (compiled_paths) shown.path = compiled.canonical;
  auto stale = live.stale.find(index);
  if (stale == live.stale.end()) return shown.ToString();
  // On a line of its own, so the rule's line stays the seed's layout.
  return shown.ToString() + "\n  # stale: " + rule.path + " now resolves to " + stale->second +
         " (spt -p)";
}

void FormatDomain(const CompiledDomain& d, const DomainLiveState& live, bool compiled_paths,
                  std::string* out) {
  *out += "Domain Name: " + d.name + " Domain ID :" + std::to_string(d.id) +
          " Enforcement Level: " + std::string(LevelName(d.level)) + "\n";
  *out += "State: " + std::to_string(live.state) + " RefCount: " + std::to_string(live.ref_count) +
          " WorldRefCount: " + std::to_string(live.world_ref_count) + "\n";
  std::vector<std::string> groups[kGroups];
  size_t path_index = 0;
  for (const Rule& rule : d.rules) {
    groups[RuleGroup(rule)].push_back(RuleText(d, rule, &path_index, compiled_paths, live));
  }
  bool first = true;
  for (const auto& group : groups) {
    if (group.empty()) continue;
    if (!first) *out += "\n";
    first = false;
    for (const std::string& line : group) *out += line + "\n";
  }
}

const DomainLiveState& LiveOf(const LiveStates& live, DomainId id) {
  static const DomainLiveState kNone;
  auto it = live.find(id);
  return it == live.end() ? kNone : it->second;
}

}  // namespace

std::string FormatLabelList(const CompiledPolicy& policy, const LiveStates& live) {
  std::string out = "Valid Object Labels\n";
  for (const ObjectLabel& l : policy.labels()) out += l.name + "    " + std::to_string(l.id) + "\n";
  out += "Valid domains\n";
  for (const CompiledDomain& d : policy.domains()) {
    size_t stale = LiveOf(live, d.id).stale.size();
    out += std::to_string(d.id) + "   " + d.name;
    if (stale > 0) {
      out += "   (" + std::to_string(stale) + (stale == 1 ? " stale rule" : " stale rules") +
             ": spt --stale)";
    }
    out += "\n";
  }
  return out;
}

std::string FormatStaleRules(const CompiledPolicy& policy, const LiveStates& live) {
  std::string out;
  for (const CompiledDomain& d : policy.domains()) {
    for (const auto& [index, now] : LiveOf(live, d.id).stale) {
      if (index >= d.path_rules.size()) continue;
      const CompiledPathRule& r = d.path_rules[index];
      out += d.name + "(" + std::to_string(d.id) + ") " + r.source.ToString() + "  [" +
             r.source.where.ToString() + "]\n";
      out += "  compiled to:     " + r.canonical + "\n";
      out += "  now resolves to: " + now + "\n";
      out += "  fix:             spt -p (spt -p --dry-run shows what it changes)\n";
    }
  }
  return out.empty() ? "no stale rules\n" : out;
}

std::string FormatPolicy(const CompiledPolicy& policy, std::optional<DomainId> only,
                         const LiveStates& live, bool compiled_paths) {
  std::string out = "Policy set in the kernel\n";
  for (const CompiledDomain& d : policy.domains()) {
    if (only && d.id != *only) continue;
    out += "\n";
    FormatDomain(d, LiveOf(live, d.id), compiled_paths, &out);
  }
  return out;
}

std::string FormatKeywords() {
  size_t word_width = 0, kind_width = 0;
  for (const Keyword& k : Keywords()) {
    word_width = std::max(word_width, k.word.size());
    kind_width = std::max(kind_width, k.kind.size());
  }
  std::string out;
  for (const Keyword& k : Keywords()) {
    out +=
        Pad(k.word, word_width + 2) + Pad(k.kind, kind_width + 2) + std::string(k.summary) + "\n";
  }
  return out;
}

std::string FormatDomainTable(const CompiledPolicy& policy) {
  const std::string kName = "Domain Name", kLevel = "Enforcement Level";
  size_t width = kName.size();
  for (const CompiledDomain& d : policy.domains()) width = std::max(width, d.name.size());
  std::string out = Pad(kName, width + 2) + kLevel + "\n";
  out += std::string(width, '-') + "  " + std::string(kLevel.size(), '-') + "\n";
  for (const CompiledDomain& d : policy.domains()) {
    out += Pad(d.name, width + 2) + std::string(LevelName(d.level)) + "\n";
  }
  return out;
}

}  // namespace sptfs
