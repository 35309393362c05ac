// What a socket address (as bind/connect/sendto pass it) means for the policy: its
// family and, for inet, whether it is a loopback address. Pure; unit-tested.
#pragma once

#include <cstddef>
#include <string>

namespace sptfs {

struct SocketAddress {
  int family = -1;        // AF_*, -1 if the buffer is too short to hold one
  bool loopback = false;  // inet: 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104
  bool any = false;       // inet: 0.0.0.0 or :: (bind to every address)
  int port = 0;           // inet, vsock (host order)
  std::string text;       // "127.0.0.1:8080", "[::1]:53", "unix:/run/x", "vsock:3:1024"
};

// `len` is the addrlen the caller passed (bytes beyond it are not looked at).
SocketAddress DescribeAddress(const void* data, size_t len);

// "AF_INET", "AF_NETLINK", ... or the number.
std::string FamilyName(int family);
// "SOCK_STREAM", ... (flags like SOCK_CLOEXEC masked off) or the number.
std::string TypeName(int type);

}  // namespace sptfs
