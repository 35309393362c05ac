#include "policy/rule_parser.h"

#include <string>

namespace sptfs {

const std::vector<Keyword>& Keywords() {
  static const std::vector<Keyword> kTable = {
      {"-r", "rule",
       "-r PATH PERMS: file access under PATH (longest prefix wins; PERMS in rwx, empty = none)"},
      {"-o", "rule", "-o LABEL PERMS: access to objects labelled LABEL (intersected with -r)"},
      {"-d", "rule", "-d LABEL DOMAIN file_exec grant: executing a LABEL file enters DOMAIN"},
      {"-c", "rule", "-c CAPABILITY grant: grant a capability"},
      {"-p", "rule", "-p OP SCOPE grant: grant a network operation"},
      {"grant", "action", "what a rule names is allowed"},
      {"dontaudit", "action",
       "what a rule names stays denied, without an audit record (-r PATH PERMS dontaudit too)"},
      {"file_exec", "transition-op", "the exec of a file that carries the -d rule's label"},
      {"dgram_vsocket_bind", "capability", "bind a datagram vsocket"},
      {"dgram_vsocket_create", "capability", "create a datagram vsocket"},
      {"dgram_vsocket_send", "capability", "send on a datagram vsocket"},
      {"dgram_vsocket_trusted", "capability", "trusted datagram vsocket peer"},
      {"inet_dgram_socket_create", "capability", "create an inet datagram socket"},
      {"inet_stream_socket_create", "capability", "create an inet stream socket"},
      {"stream_vsocket_bind", "capability", "bind a stream vsocket"},
      {"stream_vsocket_connect", "capability", "connect a stream vsocket"},
      {"stream_vsocket_create", "capability", "create a stream vsocket"},
      {"stream_vsocket_trusted", "capability", "trusted stream vsocket peer"},
      {"unix_dgram_socket_bind", "capability", "bind a unix datagram socket"},
      {"unix_socket_create", "capability", "create a unix socket"},
      {"unix_stream_socket_bind", "capability", "bind a unix stream socket"},
      {"vsocket_provide_service", "capability", "provide a vsocket service"},
      {"file_relabel", "capability", "sptfs: may set object labels (the label xattr)"},
      {"policy_admin", "capability", "sptfs: may load/reset policy, change levels, create domains"},
      {"domain_transition", "capability", "sptfs: may start programs in other domains"},
      {"file_setid", "capability", "sptfs: may set the setuid and setgid mode bits of files"},
      {"inet_socket_bind", "network-op", "bind an inet socket"},
      {"inet_socket_connect", "network-op", "connect an inet socket"},
      {"all", "network-scope", "any address"},
      {"loopback", "network-scope", "loopback addresses only"},
      {"nonloopback", "network-scope", "addresses other than loopback"},
      {"genericSys", "syscall-class", "generic system calls"},
      {"forkExecSys", "syscall-class", "fork, clone, exec"},
      {"openSys", "syscall-class", "open and file creation calls"},
      {"killSys", "syscall-class", "signals to other processes"},
      {"socketSys", "syscall-class", "socket calls"},
      {"mountSys", "syscall-class", "mount and umount"},
      {"ptraceSys", "syscall-class", "ptrace and process_vm_* calls"},
      {"moduleSys", "syscall-class", "kernel module loading"},
  };
  return kTable;
}

namespace {

bool IsKeyword(std::string_view word, std::string_view kind) {
  for (const Keyword& k : Keywords()) {
    if (k.word == word && k.kind == kind) return true;
  }
  return false;
}

std::string KeywordsOf(std::string_view kind) {
  std::string list;
  for (const Keyword& k : Keywords()) {
    if (k.kind != kind) continue;
    if (!list.empty()) list += ", ";
    list += k.word;
  }
  return list;
}

std::vector<std::string_view> Split(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

Status Fail(const SourceLocation& where, std::string_view rule, const std::string& what,
            const std::string& expected) {
  return Status::Invalid(where.ToString() + ": " + what + " in rule '" + std::string(rule) +
                         "' (expected " + expected + ")");
}

// Checks the word count and that the last word is an action: "grant", or "dontaudit"
// (then *quiet is set).
Status CheckShape(const std::vector<std::string_view>& w, size_t count, std::string_view rule,
                  const SourceLocation& where, const std::string& form, bool* quiet) {
  if (w.size() != count) return Fail(where, rule, "wrong number of words", form);
  *quiet = w.back() == "dontaudit";
  if (w.back() != "grant" && !*quiet) {
    return Fail(where, rule, "unknown action '" + std::string(w.back()) + "'",
                "grant or dontaudit");
  }
  return Status::Ok();
}

Status ParsePermsWord(const std::vector<std::string_view>& w, std::string_view rule,
                      const SourceLocation& where, Perms* out) {
  std::string_view text = w.size() == 3 ? w[2] : std::string_view();
  if (!ParsePerms(text, out)) {
    return Fail(where, rule, "bad permissions '" + std::string(text) + "'",
                "a subset of rwx, each letter once, or nothing");
  }
  return Status::Ok();
}

}  // namespace

Status ParseRule(std::string_view text, const SourceLocation& where, Rule* out) {
  std::vector<std::string_view> w = Split(text);
  Rule rule;
  rule.where = where;
  if (w.empty()) {
    return Fail(where, text, "empty rule", "-r, -o, -d, -c, -p or a syscall class");
  }
  const std::string_view head = w[0];
  bool quiet = false;
  if (head == "-r" && w.size() >= 3 && w.back() == "dontaudit") {
    // -r PATH PERMS dontaudit: the denials of PERMS under PATH leave no record.
    quiet = true;
    w.pop_back();
    if (w.size() != 3) {
      return Fail(where, text, "wrong number of words", "-r PATH PERMS dontaudit");
    }
  }
  if (head == "-r" || head == "-o") {
    if (w.size() < 2 || w.size() > 3) {
      return Fail(where, text, "wrong number of words", std::string(head) + " NAME [PERMS]");
    }
    if (Status s = ParsePermsWord(w, text, where, &rule.perms); !s.ok()) return s;
    if (quiet && rule.perms == kPermNone) {
      return Fail(where, text, "no permissions to silence",
                  "-r PATH PERMS dontaudit with PERMS a non-empty subset of rwx");
    }
    if (head == "-r") {
      rule.kind = RuleKind::kPath;
      rule.path = std::string(w[1]);
      if (rule.path[0] != '/') {
        return Fail(where, text, "path '" + rule.path + "' is not absolute",
                    "a path starting with /");
      }
    } else {
      rule.kind = RuleKind::kObject;
      rule.label = std::string(w[1]);
    }
  } else if (head == "-d") {
    if (Status s = CheckShape(w, 5, text, where, "-d LABEL DOMAIN file_exec grant", &quiet);
        !s.ok()) {
      return s;
    }
    if (w[3] != "file_exec") {
      return Fail(where, text, "unknown transition '" + std::string(w[3]) + "'", "file_exec");
    }
    rule.kind = RuleKind::kTransition;
    rule.label = std::string(w[1]);
    rule.target_domain = std::string(w[2]);
  } else if (head == "-c") {
    if (Status s = CheckShape(w, 3, text, where, "-c CAPABILITY grant", &quiet); !s.ok()) return s;
    if (!IsKeyword(w[1], "capability")) {
      return Fail(where, text, "unknown capability '" + std::string(w[1]) + "'",
                  "one of " + KeywordsOf("capability"));
    }
    rule.kind = RuleKind::kCapability;
    rule.name = std::string(w[1]);
  } else if (head == "-p") {
    if (Status s = CheckShape(w, 4, text, where, "-p OP SCOPE grant", &quiet); !s.ok()) return s;
    if (!IsKeyword(w[1], "network-op")) {
      return Fail(where, text, "unknown network operation '" + std::string(w[1]) + "'",
                  "one of " + KeywordsOf("network-op"));
    }
    if (!IsKeyword(w[2], "network-scope")) {
      return Fail(where, text, "unknown network scope '" + std::string(w[2]) + "'",
                  "one of " + KeywordsOf("network-scope"));
    }
    rule.kind = RuleKind::kNetwork;
    rule.name = std::string(w[1]);
    rule.scope = std::string(w[2]);
  } else if (IsKeyword(head, "syscall-class")) {
    if (Status s = CheckShape(w, 2, text, where, std::string(head) + " grant", &quiet); !s.ok())
      return s;
    rule.kind = RuleKind::kSyscall;
    rule.name = std::string(head);
  } else {
    return Fail(where, text, "unknown keyword '" + std::string(head) + "'",
                "-r, -o, -d, -c, -p or a syscall class: " + KeywordsOf("syscall-class"));
  }
  if (quiet && rule.kind == RuleKind::kTransition) {
    return Fail(where, text, "a transition cannot be dontaudit", "-d LABEL DOMAIN file_exec grant");
  }
  if (quiet) {
    rule.silences = rule.kind;
    rule.kind = RuleKind::kDontaudit;
  }
  *out = std::move(rule);
  return Status::Ok();
}

}  // namespace sptfs
