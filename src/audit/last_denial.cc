// LastDenials: a fixed table of fixed-size records, searched linearly (kWorlds is small,
// and a compare of one integer per slot costs less than any map's allocation).
#include "audit/last_denial.h"

#include <chrono>
#include <cstring>

#include "audit/audit_log.h"

namespace sptfs {
namespace {

// Copies `from` into `to` (NUL-terminated, cut to fit); true if it was cut.
template <size_t N>
bool CopyField(std::string_view from, char (&to)[N]) {
  size_t n = from.size() < N - 1 ? from.size() : N - 1;
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
  return n < from.size();
}

// One line per value: control bytes become '?'.
std::string Printable(std::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

void LastDenials::Record(const Decision& d, Perms requested, std::string_view op,
                         const CallerInfo& caller, std::string_view path, std::string_view label,
                         const std::shared_ptr<const CompiledPolicy>& policy) {
  if (d.allowed() || caller.world == 0) return;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::lock_guard<std::mutex> lock(mu_);
  DenialRecord* slot = &slots_[0];
  for (DenialRecord& r : slots_) {
    if (r.world == caller.world) {
      slot = &r;
      break;
    }
    if (r.stamp < slot->stamp) slot = &r;  // empty slots have stamp 0: taken first
  }
  if (slot->world != caller.world) {
    slot->world = caller.world;
    slot->count = 0;
  }
  ++slot->count;
  slot->stamp = ++stamp_;
  slot->time_ms = now;
  slot->pid = caller.pid;
  slot->tid = caller.tid;
  slot->requested = requested;
  slot->domain = d.domain ? d.domain->id : caller.domain;
  slot->generation = policy ? policy->generation() : 0;
  slot->label_limited = d.label_limited;
  CopyField(op, slot->op);
  slot->path_cut = CopyField(path, slot->path);
  CopyField(label, slot->label);
  CopyField(d.domain ? std::string_view(d.domain->name) : std::string_view("unknown"),
            slot->domain_name);
  slot->policy = policy;
  slot->rule = d.path_rule;
}

bool LastDenials::Find(uint64_t world, DenialRecord* out) const {
  if (world == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (const DenialRecord& r : slots_) {
    if (r.world == world) {
      *out = r;
      return true;
    }
  }
  return false;
}

std::string FormatDenial(const DenialRecord& r) {
  std::string rule = "no rule";
  if (r.rule != nullptr) {
    auto policy = r.policy.lock();  // keeps the rule alive while it is read
    rule = policy ? r.rule->source.ToString() : "unknown (the policy was reloaded)";
  }
  if (r.label_limited) rule += " (limited by the label)";
  std::string out = "path=" + Printable(r.path) + (r.path_cut ? "..." : "") + "\n";
  out += "requested=" + FormatPerms(r.requested) + "\n";
  out += "op=" + Printable(r.op) + "\n";
  out += "label=" + Printable(r.label[0] ? r.label : "?") + "\n";
  out += "domain=" + Printable(r.domain_name) + "(" + std::to_string(r.domain) + ")\n";
  out += "rule=" + Printable(rule) + "\n";
  out += "time=" + AuditTime(r.time_ms) + "\n";
  out += "pid=" + std::to_string(r.pid) + "\n";
  out += "count=" + std::to_string(r.count) + "\n";
  return out;
}

}  // namespace sptfs
