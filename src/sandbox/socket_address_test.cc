#include "sandbox/socket_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace sptfs {
namespace {

TEST(SocketAddress, Inet4) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(8080);
  inet_pton(AF_INET, "127.9.8.7", &a.sin_addr);
  SocketAddress s = DescribeAddress(&a, sizeof(a));
  EXPECT_EQ(s.family, AF_INET);
  EXPECT_TRUE(s.loopback);
  EXPECT_EQ(s.text, "127.9.8.7:8080");
  inet_pton(AF_INET, "128.0.0.1", &a.sin_addr);
  EXPECT_FALSE(DescribeAddress(&a, sizeof(a)).loopback);
  a.sin_addr.s_addr = 0;
  EXPECT_TRUE(DescribeAddress(&a, sizeof(a)).any);
  EXPECT_FALSE(DescribeAddress(&a, sizeof(a) - 1).loopback);  // too short: nothing trusted
}

TEST(SocketAddress, Inet6) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  EXPECT_TRUE(DescribeAddress(&a, sizeof(a)).loopback);
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
  EXPECT_TRUE(DescribeAddress(&a, sizeof(a)).loopback);
  inet_pton(AF_INET6, "2001:db8::1", &a.sin6_addr);
  SocketAddress s = DescribeAddress(&a, sizeof(a));
  EXPECT_FALSE(s.loopback);
  EXPECT_EQ(s.text, "[2001:db8::1]:0");
  a.sin6_addr = in6addr_any;
  EXPECT_TRUE(DescribeAddress(&a, sizeof(a)).any);
}

TEST(SocketAddress, Unix) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, "/tmp/s");
  EXPECT_EQ(DescribeAddress(&a, sizeof(a)).text, "unix:/tmp/s");
  a.sun_path[0] = '\0';
  EXPECT_EQ(DescribeAddress(&a, offsetof(sockaddr_un, sun_path) + 6).text, "unix:@tmp/s");
  EXPECT_EQ(DescribeAddress(&a, sizeof(sa_family_t)).text, "unix:(autobind)");
  EXPECT_EQ(DescribeAddress(&a, 1).family, -1);
}

}  // namespace
}  // namespace sptfs
