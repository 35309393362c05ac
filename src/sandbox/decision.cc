#include "sandbox/decision.h"

#include <sys/socket.h>

#include "sandbox/syscall_classes.h"

namespace sptfs {
namespace {

bool IsInet(int family) { return family == AF_INET || family == AF_INET6; }
bool IsStreamLike(int type) { return type == SOCK_STREAM || type == SOCK_SEQPACKET; }

std::string Cap(const std::string& name) { return "-c " + name + " grant"; }
std::string Net(const std::string& op, const std::string& scope) {
  return "-p " + op + " " + scope + " grant";
}

std::string CreateRule(const SandboxRequest& r) {
  if (r.family == AF_UNIX) return Cap("unix_socket_create");  // stream and dgram alike
  if (IsInet(r.family)) {
    if (r.type == SOCK_STREAM) return Cap("inet_stream_socket_create");
    if (r.type == SOCK_DGRAM) return Cap("inet_dgram_socket_create");
    return "!no rule grants " + TypeName(r.type) + " inet sockets";
  }
  if (r.family == AF_VSOCK) {
    if (IsStreamLike(r.type)) return Cap("stream_vsocket_create");
    if (r.type == SOCK_DGRAM) return Cap("dgram_vsocket_create");
    return "!no rule grants " + TypeName(r.type) + " vsockets";
  }
  return "!no rule grants " + FamilyName(r.family) + " sockets";
}

// Inet bind: "all" covers every address, "loopback" only loopback ones.
std::string InetBindRule(const SandboxRules& d, const SandboxRequest& r) {
  if (d.HasNetwork("inet_socket_bind", "all")) return Net("inet_socket_bind", "all");
  if (r.address.loopback && !r.address.any) return Net("inet_socket_bind", "loopback");
  return Net("inet_socket_bind", "all");
}

// Inet connect: the scope of the destination ("all" covers both).
std::string InetConnectRule(const SandboxRules& d, const SandboxRequest& r) {
  if (r.address.family == AF_UNSPEC) return "";  // dissolves a datagram association
  if (d.HasNetwork("inet_socket_connect", "all")) return Net("inet_socket_connect", "all");
  return Net("inet_socket_connect", r.address.loopback ? "loopback" : "nonloopback");
}

std::string BindRule(const SandboxRules& d, const SandboxRequest& r) {
  if (IsInet(r.family)) return InetBindRule(d, r);
  if (r.family == AF_UNIX) {
    return Cap(r.type == SOCK_DGRAM ? "unix_dgram_socket_bind" : "unix_stream_socket_bind");
  }
  if (r.family == AF_VSOCK) {
    return Cap(r.type == SOCK_DGRAM ? "dgram_vsocket_bind" : "stream_vsocket_bind");
  }
  return "";  // a socket of another family only exists if its creation was allowed
}

std::string ConnectRule(const SandboxRules& d, const SandboxRequest& r) {
  if (IsInet(r.family)) return InetConnectRule(d, r);
  if (r.family == AF_VSOCK) {
    return Cap(r.type == SOCK_DGRAM ? "dgram_vsocket_send" : "stream_vsocket_connect");
  }
  return "";  // unix: the socket file's own access decides (docs/syscall-classes.md)
}

bool Granted(const SandboxRules& d, const std::string& rule) {
  if (rule.rfind("-c ", 0) == 0) return d.HasCapability(rule.substr(3, rule.size() - 9));
  if (rule.rfind("-p ", 0) == 0) {
    std::string rest = rule.substr(3, rule.size() - 9);  // "OP SCOPE"
    size_t sp = rest.find(' ');
    return d.HasNetwork(rest.substr(0, sp), rest.substr(sp + 1));
  }
  return false;
}

std::string Asked(const SandboxRequest& r) {
  switch (r.op) {
    case SocketOp::kCreate:
      return r.syscall + "(" + FamilyName(r.family) + ", " + TypeName(r.type) + ")";
    case SocketOp::kBind:
    case SocketOp::kConnect:
      return r.syscall + "(" + FamilyName(r.family) + " " + TypeName(r.type) + ", " +
             r.address.text + ")";
    case SocketOp::kNone:
      break;
  }
  return r.detail.empty() ? r.syscall : r.syscall + "(" + r.detail + ")";
}

}  // namespace

std::string SocketRuleNeeded(const SandboxRules& domain, const SandboxRequest& request) {
  switch (request.op) {
    case SocketOp::kCreate:
      return CreateRule(request);
    case SocketOp::kBind:
      return BindRule(domain, request);
    case SocketOp::kConnect:
      return ConnectRule(domain, request);
    case SocketOp::kNone:
      break;
  }
  return "";
}

SandboxVerdict Decide(const SandboxRules& domain, const SandboxRequest& request) {
  SandboxVerdict v;
  if (domain.unconfined || domain.level == Level::kDisabled) return v;
  v.asked = Asked(request);
  std::string cls = request.syscall_class.empty() ? std::string(ClassOfSyscall(request.nr))
                                                  : request.syscall_class;
  // Every rule the call needs, not only the first one missing: a learning run at
  // warning level (and --suggest over it) then gets the whole set in one run.
  auto add = [&v](const std::string& what) {
    v.missing += (v.missing.empty() ? "" : std::string(kMissingSeparator)) + what;
  };
  if (domain.has_syscall_rules() && domain.syscall_classes.count(cls) == 0) add(cls + " grant");
  std::string rule = SocketRuleNeeded(domain, request);
  if (!rule.empty() && rule[0] == '!') {
    add(rule.substr(1));
  } else if (!rule.empty() && !Granted(domain, rule)) {
    add(rule);
  }
  if (v.missing.empty()) return v;
  v.record = true;
  v.warning = domain.level == Level::kWarning;
  v.allow = v.warning;
  return v;
}

}  // namespace sptfs
