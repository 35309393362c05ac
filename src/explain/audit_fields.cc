#include "explain/audit_fields.h"

namespace sptfs {
namespace {

// "{ read write }" as in SELinux's AVC: the words up to the closing brace, space-joined.
std::string BraceGroup(std::string_view line, size_t* i) {
  size_t close = line.find('}', *i);
  std::string_view inner =
      line.substr(*i, close == std::string_view::npos ? line.npos : close - *i);
  *i = close == std::string_view::npos ? line.size() : close + 1;
  std::string words;
  size_t p = 0;
  while (p < inner.size()) {
    while (p < inner.size() && inner[p] == ' ') ++p;
    size_t e = inner.find(' ', p);
    if (e == std::string_view::npos) e = inner.size();
    if (e > p) words += (words.empty() ? "" : " ") + std::string(inner.substr(p, e - p));
    p = e;
  }
  return words;
}

bool IsHex(std::string_view v) {
  if (v.empty() || v.size() % 2 != 0) return false;
  for (char c : v) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace

std::string DecodeAuditValue(std::string_view v) {
  if (!IsHex(v)) return std::string(v);
  std::string out;
  for (size_t i = 0; i < v.size(); i += 2) {
    auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'A' + 10; };
    out += static_cast<char>(nib(v[i]) * 16 + nib(v[i + 1]));
  }
  return out;
}

bool ParseAuditFields(std::string_view line, AuditFields* out) {
  out->clear();
  size_t i = 0, n = line.size();
  int position = 0;
  while (i < n) {
    while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= n) break;
    std::string key, value;
    bool has_eq = false;
    // A word: key chars up to '=', then a plain or quoted value.
    while (i < n && line[i] != ' ' && line[i] != '\t' && line[i] != '=' && line[i] != '"') {
      key += line[i++];
    }
    if (i < n && line[i] == '=') {
      has_eq = true;
      ++i;
    }
    if (i < n && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        char c = line[i++];
        if (c == '\\' && i < n) {
          value += line[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) {
        (*out)[has_eq ? key : "#" + std::to_string(position)] = value;
        return false;
      }
    } else {
      while (i < n && line[i] != ' ' && line[i] != '\t') value += line[i++];
    }
    if (has_eq) {
      (*out)[key] = value;
    } else if (key == "{") {
      (*out)["{}"] = BraceGroup(line, &i);
    } else {
      (*out)["#" + std::to_string(position++)] = key + value;
    }
  }
  return true;
}

std::string_view FirstField(const AuditFields& f, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    auto it = f.find(k);
    if (it != f.end()) return it->second;
  }
  return {};
}

}  // namespace sptfs
