#include "sandbox/socket_address.h"

#include <arpa/inet.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace sptfs {
namespace {

std::string Inet4(const sockaddr_in& a, SocketAddress* out) {
  uint32_t host = ntohl(a.sin_addr.s_addr);
  out->loopback = (host >> 24) == 127;
  out->any = host == 0;
  out->port = ntohs(a.sin_port);
  char buf[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf));
  return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
}

std::string Inet6(const sockaddr_in6& a, SocketAddress* out) {
  const in6_addr& ip = a.sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&ip)) {
    out->loopback = ip.s6_addr[12] == 127;
    out->any =
        ip.s6_addr[12] == 0 && ip.s6_addr[13] == 0 && ip.s6_addr[14] == 0 && ip.s6_addr[15] == 0;
  } else {
    out->loopback = IN6_IS_ADDR_LOOPBACK(&ip);
    out->any = IN6_IS_ADDR_UNSPECIFIED(&ip);
  }
  out->port = ntohs(a.sin6_port);
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(AF_INET6, &ip, buf, sizeof(buf));
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a.sin6_port));
}

std::string Unix(const char* data, size_t len) {
  size_t off = offsetof(sockaddr_un, sun_path);
  if (len <= off) return "unix:(autobind)";
  std::string path(data + off, len - off);
  if (path[0] == '\0') return "unix:@" + path.substr(1);  // abstract name
  size_t nul = path.find('\0');
  return "unix:" + (nul == std::string::npos ? path : path.substr(0, nul));
}

}  // namespace

SocketAddress DescribeAddress(const void* data, size_t len) {
  SocketAddress out;
  const char* bytes = static_cast<const char*>(data);
  if (data == nullptr || len < sizeof(sa_family_t)) return out;
  sa_family_t family;
  std::memcpy(&family, bytes, sizeof(family));
  out.family = family;
  if (family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in a;
    std::memcpy(&a, bytes, sizeof(a));
    out.text = Inet4(a, &out);
  } else if (family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 a;
    std::memcpy(&a, bytes, sizeof(a));
    out.text = Inet6(a, &out);
  } else if (family == AF_UNIX) {
    out.text = Unix(bytes, len);
  } else if (family == AF_VSOCK && len >= sizeof(sockaddr_vm)) {
    sockaddr_vm a;
    std::memcpy(&a, bytes, sizeof(a));
    out.text = "vsock:" + std::to_string(a.svm_cid) + ":" + std::to_string(a.svm_port);
  } else {
    out.text = FamilyName(family);
  }
  return out;
}

std::string FamilyName(int family) {
  switch (family) {
    case AF_UNIX:
      return "AF_UNIX";
    case AF_INET:
      return "AF_INET";
    case AF_INET6:
      return "AF_INET6";
    case AF_NETLINK:
      return "AF_NETLINK";
    case AF_PACKET:
      return "AF_PACKET";
    case AF_VSOCK:
      return "AF_VSOCK";
    case AF_UNSPEC:
      return "AF_UNSPEC";
    default:
      return "family " + std::to_string(family);
  }
}

std::string TypeName(int type) {
  switch (type & 0xf) {
    case SOCK_STREAM:
      return "SOCK_STREAM";
    case SOCK_DGRAM:
      return "SOCK_DGRAM";
    case SOCK_RAW:
      return "SOCK_RAW";
    case SOCK_SEQPACKET:
      return "SOCK_SEQPACKET";
    default:
      return "type " + std::to_string(type & 0xf);
  }
}

}  // namespace sptfs
