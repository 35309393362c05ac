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

std::string RuleJson(const Rule& rule, const CompiledPathRule* compiled) {
  std::string out =
      "{\"kind\":" + Quote(KindName(rule.kind)) + ",\"text\":" + Quote(rule.ToString());
  if (compiled) {
    out += ",\"path\":" + Quote(rule.path) + ",\"canonical\":" + Quote(compiled->canonical) +
           ",\"fully_resolved\":" + (compiled->fully_resolved ? "true" : "false") +
           ",\"perms\":" + Quote(FormatPerms(rule.perms));
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
    const CompiledPathRule* compiled =
        rule.kind == RuleKind::kPath ? &d.path_rules[path_index++] : nullptr;
    out += (i ? "," : "") + RuleJson(rule, compiled);
  }
  return out + "]}";
}

}  // namespace

std::string LabelListJson(const CompiledPolicy& policy) {
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
           ",\"name\":" + Quote(d.name) + ",\"level\":" + Quote(LevelName(d.level)) + "}";
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
