#include "explain/import.h"

#include <regex>
#include <set>

#include "policy/rule_parser.h"

namespace sptfs {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Lines of the listing that carry no policy: the title, kernel state, a shell prompt.
bool IsNoise(std::string_view line) {
  return line.empty() || line == "Policy set in the kernel" || StartsWith(line, "State:") ||
         (StartsWith(line, "[") && line.find(']') != std::string_view::npos &&
          line.find("secpolicytools") != std::string_view::npos);
}

std::string At(const std::string& source, int line) {
  return source + ":" + std::to_string(line) + ": ";
}

Status ParseHeader(std::string_view line, const std::string& source, int line_no,
                   ImportedDomain* out) {
  static const std::regex kHeader(
      R"(Domain Name:\s*(\S+)\s+Domain ID\s*:\s*(\d+)\s+Enforcement Level:\s*(\S+))");
  const std::string text(line);
  std::smatch m;
  const std::string expected =
      " (expected 'Domain Name: NAME Domain ID :N Enforcement Level: LEVEL')";
  if (!std::regex_match(text, m, kHeader)) {
    return Status::Invalid(At(source, line_no) + "malformed domain header" + expected);
  }
  if (m[2].length() > 5 || std::stoul(m[2].str()) > kMaxId) {
    return Status::Invalid(At(source, line_no) + "domain id " + m[2].str() +
                           " out of range (expected 0.." + std::to_string(kMaxId) + ")");
  }
  ImportedDomain d;
  d.name = m[1].str();
  d.id = static_cast<DomainId>(std::stoul(m[2].str()));
  if (!ParseLevel(m[3].str(), &d.level)) {
    return Status::Invalid(At(source, line_no) + "unknown enforcement level '" + m[3].str() +
                           "' (expected enforcing, warning or disabled)");
  }
  d.line = line_no;
  *out = std::move(d);
  return Status::Ok();
}

// TOML basic string: quotes and backslashes escaped.
std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Status ParseSecpolicyDump(std::string_view text, const std::string& source,
                          std::vector<ImportedDomain>* out) {
  std::vector<ImportedDomain> domains;
  std::set<std::string> names;
  std::set<DomainId> ids;
  int line_no = 0;
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (IsNoise(line)) continue;
    if (StartsWith(line, "Domain Name:")) {
      ImportedDomain d;
      Status s = ParseHeader(line, source, line_no, &d);
      if (!s.ok()) return s;
      if (!names.insert(d.name).second || !ids.insert(d.id).second) {
        return Status::Invalid(At(source, line_no) + "domain " + d.name + " (id " +
                               std::to_string(d.id) +
                               ") listed twice (expected each name and id once)");
      }
      domains.push_back(std::move(d));
      continue;
    }
    if (domains.empty()) {
      return Status::Invalid(At(source, line_no) + "rule before any domain header" +
                             " (expected 'Domain Name: NAME Domain ID :N Enforcement Level: L')");
    }
    Rule rule;
    Status s = ParseRule(line, SourceLocation{source, line_no}, &rule);
    if (!s.ok()) return s;
    domains.back().rules.push_back(std::move(rule));
  }
  if (domains.empty()) {
    return Status::Invalid(source + ": no domain found (expected the output of " +
                           "'secpolicytools -d', with 'Domain Name: ...' header lines)");
  }
  *out = std::move(domains);
  return Status::Ok();
}

std::string DomainToml(const ImportedDomain& d, std::string_view source) {
  std::string t = "# Imported by `spt --import` from " + std::string(source) + ".\n";
  t += "# -r paths are the host's compiled (canonical) paths, as secpolicytools -d shows them.\n";
  t += "name = " + TomlString(d.name) + "\n";
  t += "id = " + std::to_string(d.id) + "\n";
  t += "level = " + TomlString(LevelName(d.level)) + "\n";
  t += "rules = [\n";
  for (const Rule& r : d.rules) t += "  " + TomlString(r.ToString()) + ",\n";
  t += "]\n";
  return t;
}

Status ImportSecpolicyDump(std::string_view text, const std::string& source,
                           std::vector<ImportedFile>* out) {
  std::vector<ImportedDomain> domains;
  Status s = ParseSecpolicyDump(text, source, &domains);
  if (!s.ok()) return s;
  out->clear();
  for (const ImportedDomain& d : domains) out->push_back({d.name + ".toml", DomainToml(d, source)});
  return Status::Ok();
}

}  // namespace sptfs
