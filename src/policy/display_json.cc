// JSON forms of the listings (keys documented in docs/spt.md). Hand-written: the
// output is small and flat, and a JSON library would be one more dependency.
#include <cstdio>

#include "policy/display.h"

namespace sptfs {

namespace {}  // namespace

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

namespace {

std::string Quote(std::string_view text) { return JsonQuote(text); }

std::string_view KindName(RuleKind kind) {
  switch (kind) {
    case RuleKind::kCapability:
      return "capability";
    case RuleKind::kTransition:
      return "transition";
    case RuleKind::kNetwork:
      return "network";
    case RuleKind::kPath:
      return "path";
    case RuleKind::kObject:
      return "object";
    case RuleKind::kSyscall:
      return "syscall";
    case RuleKind::kDontaudit:
      return "dontaudit";
  }
  return "";
}

std::string RuleJson(const Rule& rule, const CompiledPathRule* compiled, const std::string* stale) {
  std::string out =
      "{\"kind\":" + Quote(KindName(rule.kind)) + ",\"text\":" + Quote(rule.ToString());
  if (compiled) {
    out += ",\"path\":" + Quote(rule.path) + ",\"canonical\":" + Quote(compiled->canonical) +
           ",\"fully_resolved\":" + (compiled->fully_resolved ? "true" : "false") +
           ",\"perms\":" + Quote(FormatPerms(rule.perms));
    // Only on a stale rule, so the layout without stale rules stays as it was.
    if (stale) out += ",\"stale\":true,\"now_resolves_to\":" + Quote(*stale);
  }
  return out + ",\"file\":" + Quote(rule.where.file) +
         ",\"line\":" + std::to_string(rule.where.line) + "}";
}

std::string DomainJson(const CompiledDomain& d, const DomainLiveState& live) {
  std::string out = "{\"name\":" + Quote(d.name) + ",\"id\":" + std::to_string(d.id) +
                    ",\"level\":" + Quote(LevelName(d.level)) +
                    ",\"unconfined\":" + (d.unconfined ? "true" : "false") +
                    ",\"runtime\":" + (d.runtime ? "true" : "false") +
                    ",\"state\":" + std::to_string(live.state) +
                    ",\"ref_count\":" + std::to_string(live.ref_count) +
                    ",\"world_ref_count\":" + std::to_string(live.world_ref_count) + ",\"rules\":[";
  size_t path_index = 0;
  for (size_t i = 0; i < d.rules.size(); ++i) {
    const Rule& rule = d.rules[i];
    const CompiledPathRule* compiled = nullptr;
    const std::string* stale = nullptr;
    if (rule.kind == RuleKind::kPath) {
      auto it = live.stale.find(path_index);
      if (it != live.stale.end()) stale = &it->second;
      compiled = &d.path_rules[path_index++];
    }
    out += (i ? "," : "") + RuleJson(rule, compiled, stale);
  }
  return out + "]}";
}

size_t StaleCount(const LiveStates& live, DomainId id) {
  auto it = live.find(id);
  return it == live.end() ? 0 : it->second.stale.size();
}

}  // namespace

std::string StaleRulesJson(const CompiledPolicy& policy, const LiveStates& live) {
  std::string out = "{\"generation\":" + std::to_string(policy.generation()) + ",\"stale\":[";
  bool first = true;
  for (const CompiledDomain& d : policy.domains()) {
    auto it = live.find(d.id);
    if (it == live.end()) continue;
    for (const auto& [index, now] : it->second.stale) {
      if (index >= d.path_rules.size()) continue;
      const CompiledPathRule& r = d.path_rules[index];
      out += std::string(first ? "" : ",") + "{\"domain\":" + Quote(d.name) +
             ",\"id\":" + std::to_string(d.id) + ",\"rule\":" + Quote(r.source.ToString()) +
             ",\"path\":" + Quote(r.source.path) + ",\"compiled\":" + Quote(r.canonical) +
             ",\"now_resolves_to\":" + Quote(now) + ",\"file\":" + Quote(r.source.where.file) +
             ",\"line\":" + std::to_string(r.source.where.line) + ",\"fix\":\"spt -p\"}";
      first = false;
    }
  }
  return out + "]}\n";
}

std::string LabelListJson(const CompiledPolicy& policy, const LiveStates& live) {
  std::string out = "{\"labels\":[";
  for (size_t i = 0; i < policy.labels().size(); ++i) {
    const ObjectLabel& l = policy.labels()[i];
    out += std::string(i ? "," : "") + "{\"name\":" + Quote(l.name) +
           ",\"id\":" + std::to_string(l.id) + "}";
  }
  out += "],\"domains\":[";
  for (size_t i = 0; i < policy.domains().size(); ++i) {
    const CompiledDomain& d = policy.domains()[i];
    out += std::string(i ? "," : "") + "{\"id\":" + std::to_string(d.id) +
           ",\"name\":" + Quote(d.name) + ",\"level\":" + Quote(LevelName(d.level));
    if (size_t n = StaleCount(live, d.id); n > 0) out += ",\"stale_rules\":" + std::to_string(n);
    out += "}";
  }
  return out + "]}\n";
}

std::string PolicyJson(const CompiledPolicy& policy, std::optional<DomainId> only,
                       const LiveStates& live) {
  std::string out = "{\"generation\":" + std::to_string(policy.generation()) +
                    ",\"source_dir\":" + Quote(policy.source_dir()) + ",\"domains\":[";
  bool first = true;
  for (const CompiledDomain& d : policy.domains()) {
    if (only && d.id != *only) continue;
    auto it = live.find(d.id);
    out += (first ? "" : ",") + DomainJson(d, it == live.end() ? DomainLiveState{} : it->second);
    first = false;
  }
  return out + "]}\n";
}

std::string DomainTableJson(const CompiledPolicy& policy) {
  std::string out = "[";
  for (const CompiledDomain& d : policy.domains()) {
    if (out.size() > 1) out += ",";
    out += "{\"name\":" + JsonQuote(d.name) + ",\"id\":" + std::to_string(d.id) +
           ",\"level\":" + JsonQuote(LevelName(d.level)) +
           ",\"unconfined\":" + (d.unconfined ? "true" : "false") + "}";
  }
  return out + "]\n";
}

}  // namespace sptfs
