#include "policy/policy_diff.h"

#include <map>
#include <optional>
#include <vector>

namespace sptfs {
namespace {

std::string NameId(const CompiledDomain& d) { return d.name + " (" + std::to_string(d.id) + ")"; }

// Rule texts with their count (a text may appear twice in a domain).
std::map<std::string, int> RuleTexts(const CompiledDomain& d) {
  std::map<std::string, int> texts;
  for (const Rule& r : d.rules) ++texts[r.ToString()];
  return texts;
}

// -r rule text -> compiled path (the first of that text).
std::map<std::string, std::string> Compiled(const CompiledDomain& d) {
  std::map<std::string, std::string> paths;
  for (const CompiledPathRule& r : d.path_rules) paths.emplace(r.source.ToString(), r.canonical);
  return paths;
}

// The lines for a domain in both snapshots (empty: nothing changes).
std::string DomainDiff(const CompiledDomain& a, const CompiledDomain& b) {
  std::string out;
  if (a.level != b.level) {
    out += "  level: " + std::string(LevelName(a.level)) + " → " + std::string(LevelName(b.level)) +
           "\n";
  }
  if (a.unconfined != b.unconfined) {
    out += std::string("  ") + (b.unconfined ? "becomes unconfined" : "becomes confined") + "\n";
  }
  std::map<std::string, std::string> pa = Compiled(a), pb = Compiled(b);
  for (const auto& [text, path] : pa) {
    auto it = pb.find(text);
    if (it != pb.end() && it->second != path)
      out += "  " + text + ": " + path + " → " + it->second + "\n";
  }
  std::map<std::string, int> ta = RuleTexts(a), tb = RuleTexts(b);
  for (const Rule& r : b.rules) {
    std::string text = r.ToString();
    if (tb[text] > ta[text]) out += "  + " + text + "\n";
  }
  for (const Rule& r : a.rules) {
    std::string text = r.ToString();
    if (ta[text] > tb[text]) out += "  - " + text + "\n";
  }
  return out;
}

std::string LabelDiff(const CompiledPolicy& a, const CompiledPolicy& b) {
  std::string out;
  for (const ObjectLabel& l : b.labels()) {
    std::optional<LabelId> old = a.FindLabel(l.name);
    if (!old) {
      out += "  + " + l.name + " " + std::to_string(l.id) + "\n";
    } else if (*old != l.id) {
      out += "  " + l.name + ": id " + std::to_string(*old) + " → " + std::to_string(l.id) + "\n";
    }
  }
  for (const ObjectLabel& l : a.labels()) {
    if (!b.FindLabel(l.name)) out += "  - " + l.name + " " + std::to_string(l.id) + "\n";
  }
  return out;
}

}  // namespace

std::string FormatPolicyDiff(const CompiledPolicy& current, const CompiledPolicy& next,
                             bool* changed) {
  std::string out;
  for (const CompiledDomain& a : current.domains()) {
    const CompiledDomain* b = next.FindDomain(a.id);
    if (b && b->name != a.name) b = nullptr;  // another domain under that id
    if (!b) {
      out += "- domain " + NameId(a) + (a.runtime ? ", made by spt -N" : "") + "\n";
      continue;
    }
    std::string lines = DomainDiff(a, *b);
    if (!lines.empty()) out += NameId(a) + ":\n" + lines;
  }
  for (const CompiledDomain& b : next.domains()) {
    const CompiledDomain* a = current.FindDomain(b.id);
    if (a && a->name == b.name) continue;
    out += "+ domain " + NameId(b) + ", level " + std::string(LevelName(b.level)) + "\n";
    for (const Rule& r : b.rules) out += "  + " + r.ToString() + "\n";
  }
  if (std::string labels = LabelDiff(current, next); !labels.empty()) {
    out += "labels:\n" + labels;
  }
  const CompiledDomain* da = current.FindDomain(current.default_domain());
  const CompiledDomain* db = next.FindDomain(next.default_domain());
  if (da && db && da->name != db->name) {
    out += "default domain: " + da->name + " → " + db->name + "\n";
  }
  if (current.on_stale() != next.on_stale()) {
    auto name = [](OnStale o) { return o == OnStale::kWarn ? "warn" : "reload"; };
    out +=
        std::string("on_stale: ") + name(current.on_stale()) + " → " + name(next.on_stale()) + "\n";
  }
  *changed = !out.empty();
  return *changed ? out : "no changes\n";
}

}  // namespace sptfs
