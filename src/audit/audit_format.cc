// Pure formatting of audit lines: the access record and the value encoding shared with
// event producers. No I/O here, so every byte of the format is unit-tested.
#include <cstdio>
#include <string>

#include "audit/audit_log.h"

namespace sptfs {
namespace {

// SELinux's AVC spells permissions as words inside braces.
std::string PermWords(Perms perms) {
  std::string out = "{";
  if (perms & kPermRead) out += " read";
  if (perms & kPermWrite) out += " write";
  if (perms & kPermExec) out += " execute";
  if (perms == kPermNone) out += " none";
  out += " }";
  return out;
}

// A backslash too (Linux audit leaves it): readers of quoted values take it as an escape,
// so a value ending in one would swallow the closing quote and the fields after it, and
// the record would not parse (escape test
// test_audit_record_hidden_from_suggest_by_a_backslash).
bool NeedsHex(std::string_view value, bool allow_space) {
  for (unsigned char c : value) {
    if (c == ' ' && allow_space) continue;
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return true;
  }
  return false;
}

std::string Hex(std::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 2);
  for (unsigned char c : value) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

std::string AuditValue(std::string_view value) {
  // Like the Linux audit subsystem: a value that could break the line (space, quote,
  // control or non-ASCII byte) is written as upper-case hex without quotes.
  if (NeedsHex(value, false)) return Hex(value);
  return "\"" + std::string(value) + "\"";
}

std::string AuditText(std::string_view value) {
  if (NeedsHex(value, true)) return Hex(value);
  return "\"" + std::string(value) + "\"";
}

std::string AuditTime(int64_t epoch_ms) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%lld.%03lld", static_cast<long long>(epoch_ms / 1000),
                static_cast<long long>(epoch_ms % 1000));
  return buf;
}

std::string FormatAccessRecord(const AccessRecord& record, std::string_view time) {
  const Decision* d = record.decision;
  const CallerInfo* c = record.caller;
  const CompiledDomain* dom = d ? d->domain : nullptr;
  std::string line = "type=SPT_AVC msg=audit(" + std::string(time) + "): ";
  line += (d && d->warning) ? "warning " : "denied ";
  line += PermWords(record.requested);
  line += " op=" + std::string(record.op.empty() ? "?" : record.op);
  line += " pid=" + std::to_string(c ? c->pid : 0);
  line += " tid=" + std::to_string(c ? c->tid : 0);
  line += " comm=" + AuditValue(c ? c->comm : "");
  line += " exe=" + AuditValue(c ? c->exe : "");
  line += " uid=" + std::to_string(c ? c->uid : 0);
  line += " path=" + AuditValue(record.path);
  // Label names from the policy are plain words; garbage read from a file is hex.
  std::string_view label = record.label.empty() ? std::string_view("?") : record.label;
  line += " label=" + (NeedsHex(label, false) ? Hex(label) : std::string(label));
  if (dom) {
    line += " domain=" + dom->name + "(" + std::to_string(dom->id) + ")";
    line += " level=" + std::string(LevelName(dom->level));
  } else {
    line += " domain=unknown(" + std::to_string(c ? c->domain : 0) + ")";
    line += " level=enforcing";
  }
  line += " rule=" + (d && d->path_rule ? AuditText(d->path_rule->source.ToString())
                                        : std::string("\"no rule\""));
  if (d && d->label_limited) line += " limited_by=label";
  if (c && !c->identified) line += " caller=unidentified";
  line += " generation=" + std::to_string(record.generation);
  if (!record.hint.empty()) line += " hint=" + AuditText(record.hint);
  return line;
}

}  // namespace sptfs
