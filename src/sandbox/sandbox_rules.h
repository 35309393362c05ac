// The part of a domain that the socket and syscall supervisor needs, and its text form
// on the control socket (`sandbox query` / `sandbox domains`, docs/control-protocol.md):
//
//   domain NAME ID LEVEL confined|unconfined
//   -c inet_stream_socket_create grant
//   -p inet_socket_connect loopback grant
//   genericSys grant
//
// one block per domain; only -c, -p and NAMESys rules are listed. Pure.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/model.h"
#include "util/status.h"

namespace sptfs {

struct SandboxRules {
  std::string name;
  DomainId id = 0;
  Level level = Level::kEnforcing;
  bool unconfined = false;
  std::set<std::string, std::less<>> capabilities;        // -c NAME grant
  std::set<std::pair<std::string, std::string>> network;  // -p OP SCOPE grant
  std::set<std::string, std::less<>> syscall_classes;     // NAMESys grant
  bool has_syscall_rules() const { return !syscall_classes.empty(); }
  bool HasCapability(std::string_view c) const { return capabilities.count(c) > 0; }
  bool HasNetwork(std::string_view op, std::string_view scope) const {
    return network.count({std::string(op), std::string(scope)}) > 0;
  }
};

// The text of one domain (the daemon's side; kept here so both sides are tested together).
std::string FormatSandboxRules(const SandboxRules& rules);
// From a domain's rule list (only -c, -p and NAMESys rules are kept).
SandboxRules SandboxRulesOf(std::string name, DomainId id, Level level, bool unconfined,
                            const std::vector<Rule>& rules);

// The identity of one domain block of a daemon reply, from its header line
// "domain NAME ID LEVEL confined|unconfined" (split into `words`). Shared by the sandbox
// and landlock replies; errors say "REPLY:LINE: what (expected ...)".
struct DomainHeader {
  std::string name;
  DomainId id = 0;
  Level level = Level::kEnforcing;
  bool unconfined = false;
};
Status ParseDomainHeader(const std::vector<std::string>& words, const std::string& reply, int line,
                         DomainHeader* out);

// Parses one or more blocks; errors say "sandbox reply:LINE: what (expected ...)".
Status ParseSandboxRules(std::string_view text, std::vector<SandboxRules>* out);

}  // namespace sptfs
