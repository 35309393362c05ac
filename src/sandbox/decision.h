// The socket and syscall decision for one intercepted call (docs/syscall-classes.md):
// pure, so every rule kind is unit-tested. The supervisor (supervisor.h) fills a
// SandboxRequest from the notification and the target's memory and acts on the verdict.
//
// Order: unconfined or disabled domain: allow, no record. Then the syscall class (only
// if the domain has NAMESys rules at all), then the socket rule (-c/-p) for socket,
// socketpair, bind, connect and sendto/sendmsg to an address. Missing: enforcing =
// EPERM and a record, warning = allowed and a record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sandbox/sandbox_rules.h"
#include "sandbox/socket_address.h"

namespace sptfs {

// Between the items of SandboxVerdict::missing (and the records' missing= field).
inline constexpr std::string_view kMissingSeparator = "; ";

enum class SocketOp { kNone, kCreate, kBind, kConnect };

struct SandboxRequest {
  int nr = -1;                // the system call
  std::string syscall;        // its name, for records
  std::string syscall_class;  // "" = ClassOfSyscall(nr); set for threads, self-signals
  SocketOp op = SocketOp::kNone;
  int family = -1;        // of the socket (kCreate: the argument)
  int type = -1;          // of the socket, flags masked off
  SocketAddress address;  // kBind, kConnect
  std::string detail;     // kNone: what the call is about, e.g. "pid 1" for kill
};

struct SandboxVerdict {
  bool allow = true;
  bool record = false;      // write an audit record (denied, or warning)
  bool warning = false;     // allowed only because the domain is at warning level
  std::string asked;        // "socket(AF_PACKET, SOCK_RAW)", "connect(10.0.0.1:80)", "kill"
  std::string missing;      // every rule that would be needed to grant it, or why none
                            // can, joined by kMissingSeparator ("socketSys grant; -c ...")
  uint64_t suppressed = 0;  // records the supervisor dropped (rate limit) before this one
};

SandboxVerdict Decide(const SandboxRules& domain, const SandboxRequest& request);

// The rule a socket request needs ("" = no rule needed), or "!why" if no rule can grant it.
std::string SocketRuleNeeded(const SandboxRules& domain, const SandboxRequest& request);

}  // namespace sptfs
