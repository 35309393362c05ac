#include "policy/model.h"

namespace sptfs {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kEnforcing:
      return "enforcing";
    case Level::kWarning:
      return "warning";
    case Level::kDisabled:
      return "disabled";
  }
  return "enforcing";
}

bool ParseLevel(std::string_view text, Level* out) {
  for (Level level : {Level::kEnforcing, Level::kWarning, Level::kDisabled}) {
    if (text == LevelName(level)) {
      *out = level;
      return true;
    }
  }
  return false;
}

std::string SourceLocation::ToString() const { return file + ":" + std::to_string(line); }

std::string Rule::ToString() const {
  switch (kind) {
    case RuleKind::kCapability:
      return "-c " + name + " grant";
    case RuleKind::kTransition:
      return "-d " + label + " " + target_domain + " file_exec grant";
    case RuleKind::kNetwork:
      return "-p " + name + " " + scope + " grant";
    case RuleKind::kPath:
      // The seed keeps the separator even when perms are empty: "-r /var/run/inetd.conf ".
      return "-r " + path + " " + FormatPerms(perms);
    case RuleKind::kObject:
      return "-o " + label + " " + FormatPerms(perms);
    case RuleKind::kSyscall:
      return name + " grant";
    case RuleKind::kDontaudit: {
      Rule shown = *this;
      shown.kind = silences;
      std::string text = shown.ToString();
      if (silences == RuleKind::kPath) return text + " dontaudit";
      return text.substr(0, text.size() - 5) + "dontaudit";  // "... grant" -> "... dontaudit"
    }
  }
  return "";
}

}  // namespace sptfs
