#include "sandbox/sandbox_rules.h"

#include <cstdlib>

#include "policy/rule_parser.h"

namespace sptfs {
namespace {

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.emplace_back(line.substr(start, i - start));
  }
  return out;
}

Status Bad(int line, const std::string& what, const std::string& expected) {
  return Status::Invalid("sandbox reply:" + std::to_string(line) + ": " + what + " (expected " +
                         expected + ")");
}

void AddRule(const Rule& r, SandboxRules* out) {
  if (r.kind == RuleKind::kCapability) out->capabilities.insert(r.name);
  if (r.kind == RuleKind::kNetwork) out->network.insert({r.name, r.scope});
  if (r.kind == RuleKind::kSyscall) out->syscall_classes.insert(r.name);
}

Status ParseHeader(const std::vector<std::string>& w, int line, SandboxRules* out) {
  DomainHeader h;
  if (Status st = ParseDomainHeader(w, "sandbox reply", line, &h); !st.ok()) return st;
  out->name = std::move(h.name);
  out->id = h.id;
  out->level = h.level;
  out->unconfined = h.unconfined;
  return Status::Ok();
}

}  // namespace

Status ParseDomainHeader(const std::vector<std::string>& w, const std::string& reply, int line,
                         DomainHeader* out) {
  const std::string form = "domain NAME ID LEVEL confined|unconfined";
  auto bad = [&](const std::string& what) {
    return Status::Invalid(reply + ":" + std::to_string(line) + ": " + what + " (expected " + form +
                           ")");
  };
  if (w.size() != 5) return bad("wrong number of words in the domain line");
  char* end = nullptr;
  unsigned long id = std::strtoul(w[2].c_str(), &end, 10);
  if (w[2].empty() || *end != '\0' || id > kMaxId) return bad("bad domain id");
  if (!ParseLevel(w[3], &out->level)) return bad("bad level '" + w[3] + "'");
  if (w[4] != "confined" && w[4] != "unconfined") return bad("bad confinement");
  out->name = w[1];
  out->id = static_cast<DomainId>(id);
  out->unconfined = w[4] == "unconfined";
  return Status::Ok();
}

SandboxRules SandboxRulesOf(std::string name, DomainId id, Level level, bool unconfined,
                            const std::vector<Rule>& rules) {
  SandboxRules out;
  out.name = std::move(name);
  out.id = id;
  out.level = level;
  out.unconfined = unconfined;
  for (const Rule& r : rules) AddRule(r, &out);
  return out;
}

std::string FormatSandboxRules(const SandboxRules& r) {
  std::string out = "domain " + r.name + " " + std::to_string(r.id) + " " +
                    std::string(LevelName(r.level)) +
                    (r.unconfined ? " unconfined\n" : " confined\n");
  for (const std::string& c : r.capabilities) out += "-c " + c + " grant\n";
  for (const auto& [op, scope] : r.network) out += "-p " + op + " " + scope + " grant\n";
  for (const std::string& s : r.syscall_classes) out += s + " grant\n";
  return out;
}

Status ParseSandboxRules(std::string_view text, std::vector<SandboxRules>* out) {
  std::vector<SandboxRules> blocks;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    std::vector<std::string> w = Words(line);
    if (w.empty()) continue;
    if (w[0] == "domain") {
      blocks.emplace_back();
      if (Status s = ParseHeader(w, line_no, &blocks.back()); !s.ok()) return s;
      continue;
    }
    if (blocks.empty()) return Bad(line_no, "a rule before any domain line", "domain NAME ...");
    Rule rule;
    Status s = ParseRule(line, SourceLocation{"sandbox reply", line_no}, &rule);
    if (!s.ok()) return s;
    if (rule.kind != RuleKind::kCapability && rule.kind != RuleKind::kNetwork &&
        rule.kind != RuleKind::kSyscall) {
      return Bad(line_no, "a file or transition rule", "-c, -p or NAMESys rules only");
    }
    AddRule(rule, &blocks.back());
  }
  if (blocks.empty()) return Bad(line_no, "no domain in the reply", "domain NAME ID LEVEL ...");
  *out = std::move(blocks);
  return Status::Ok();
}

}  // namespace sptfs
