#include "sandbox/decision.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/socket.h>

#include "sandbox/notify_filter.h"

namespace sptfs {
namespace {

SandboxRules Dom(std::vector<std::string> caps,
                 std::vector<std::pair<std::string, std::string>> net,
                 std::vector<std::string> classes = {}, Level level = Level::kEnforcing) {
  SandboxRules d;
  d.name = "testDom";
  d.id = 9;
  d.level = level;
  for (auto& c : caps) d.capabilities.insert(c);
  for (auto& n : net) d.network.insert(n);
  for (auto& c : classes) d.syscall_classes.insert(c);
  return d;
}

SandboxRequest Create(int family, int type) {
  SandboxRequest r;
  r.nr = seccomp_syscall_resolve_name("socket");
  r.syscall = "socket";
  r.op = SocketOp::kCreate;
  r.family = family;
  r.type = type;
  return r;
}

SandboxRequest Inet(const char* op, const char* ip, int type = SOCK_STREAM) {
  SandboxRequest r;
  r.nr = seccomp_syscall_resolve_name(op);
  r.syscall = op;
  r.op = std::string(op) == "bind" ? SocketOp::kBind : SocketOp::kConnect;
  r.family = AF_INET;
  r.type = type;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, ip, &a.sin_addr);
  r.address = DescribeAddress(&a, sizeof(a));
  return r;
}

TEST(Decide, SocketCreationNeedsTheFamilysCapability) {
  SandboxRules d = Dom({"inet_stream_socket_create", "unix_socket_create"}, {});
  EXPECT_TRUE(Decide(d, Create(AF_INET, SOCK_STREAM)).allow);
  EXPECT_TRUE(Decide(d, Create(AF_INET6, SOCK_STREAM)).allow);
  EXPECT_TRUE(Decide(d, Create(AF_UNIX, SOCK_STREAM)).allow);
  EXPECT_TRUE(Decide(d, Create(AF_UNIX, SOCK_DGRAM)).allow);  // one create for both
  SandboxVerdict v = Decide(d, Create(AF_INET, SOCK_DGRAM));
  EXPECT_FALSE(v.allow);
  EXPECT_TRUE(v.record);
  EXPECT_EQ(v.missing, "-c inet_dgram_socket_create grant");
  EXPECT_EQ(v.asked, "socket(AF_INET, SOCK_DGRAM)");
  EXPECT_EQ(Decide(d, Create(AF_VSOCK, SOCK_STREAM)).missing, "-c stream_vsocket_create grant");
  EXPECT_EQ(Decide(d, Create(AF_VSOCK, SOCK_DGRAM)).missing, "-c dgram_vsocket_create grant");
  EXPECT_EQ(Decide(d, Create(AF_PACKET, SOCK_RAW)).missing, "no rule grants AF_PACKET sockets");
  EXPECT_EQ(Decide(d, Create(AF_INET, SOCK_RAW)).missing, "no rule grants SOCK_RAW inet sockets");
}

TEST(Decide, InetBindScopes) {
  SandboxRules loop = Dom({}, {{"inet_socket_bind", "loopback"}});
  EXPECT_TRUE(Decide(loop, Inet("bind", "127.0.0.1")).allow);
  EXPECT_TRUE(Decide(loop, Inet("bind", "127.3.4.5")).allow);
  EXPECT_EQ(Decide(loop, Inet("bind", "0.0.0.0")).missing, "-p inet_socket_bind all grant");
  EXPECT_EQ(Decide(loop, Inet("bind", "10.1.2.3")).missing, "-p inet_socket_bind all grant");
  SandboxRules all = Dom({}, {{"inet_socket_bind", "all"}});
  EXPECT_TRUE(Decide(all, Inet("bind", "0.0.0.0")).allow);
  EXPECT_TRUE(Decide(all, Inet("bind", "127.0.0.1")).allow);
  EXPECT_EQ(Decide(Dom({}, {}), Inet("bind", "127.0.0.1")).missing,
            "-p inet_socket_bind loopback grant");
}

TEST(Decide, InetConnectScopes) {
  SandboxRules loop = Dom({}, {{"inet_socket_connect", "loopback"}});
  EXPECT_TRUE(Decide(loop, Inet("connect", "127.0.0.1")).allow);
  EXPECT_EQ(Decide(loop, Inet("connect", "192.0.2.1")).missing,
            "-p inet_socket_connect nonloopback grant");
  SandboxRules non = Dom({}, {{"inet_socket_connect", "nonloopback"}});
  EXPECT_TRUE(Decide(non, Inet("connect", "192.0.2.1")).allow);
  EXPECT_FALSE(Decide(non, Inet("connect", "127.0.0.1")).allow);
  EXPECT_TRUE(Decide(loop, Inet("sendto", "127.0.0.1", SOCK_DGRAM)).allow);
  EXPECT_FALSE(Decide(loop, Inet("sendto", "198.51.100.7", SOCK_DGRAM)).allow);
}

TEST(Decide, UnixAndVsockBind) {
  SandboxRequest r;
  r.nr = seccomp_syscall_resolve_name("bind");
  r.syscall = "bind";
  r.op = SocketOp::kBind;
  r.family = AF_UNIX;
  r.type = SOCK_DGRAM;
  SandboxRules stream_only = Dom({"unix_stream_socket_bind"}, {});
  EXPECT_EQ(Decide(stream_only, r).missing, "-c unix_dgram_socket_bind grant");
  r.type = SOCK_STREAM;
  EXPECT_TRUE(Decide(stream_only, r).allow);
  r.family = AF_VSOCK;
  EXPECT_EQ(Decide(stream_only, r).missing, "-c stream_vsocket_bind grant");
  r.op = SocketOp::kConnect;
  EXPECT_EQ(Decide(stream_only, r).missing, "-c stream_vsocket_connect grant");
  r.family = AF_UNIX;
  EXPECT_TRUE(Decide(stream_only, r).allow);  // unix connect: the socket file decides
}

TEST(Decide, LevelsAndUnconfined) {
  SandboxRules w = Dom({}, {}, {}, Level::kWarning);
  SandboxVerdict v = Decide(w, Create(AF_PACKET, SOCK_RAW));
  EXPECT_TRUE(v.allow);
  EXPECT_TRUE(v.record);
  EXPECT_TRUE(v.warning);
  SandboxRules off = Dom({}, {}, {}, Level::kDisabled);
  v = Decide(off, Create(AF_PACKET, SOCK_RAW));
  EXPECT_TRUE(v.allow);
  EXPECT_FALSE(v.record);
  SandboxRules free = Dom({}, {});
  free.unconfined = true;
  EXPECT_TRUE(Decide(free, Create(AF_PACKET, SOCK_RAW)).allow);
}

TEST(Decide, SyscallClasses) {
  SandboxRequest kill;
  kill.nr = seccomp_syscall_resolve_name("kill");
  kill.syscall = "kill";
  EXPECT_TRUE(Decide(Dom({}, {}), kill).allow);  // no NAMESys rule: no restriction
  SandboxRules generic = Dom({}, {}, {"genericSys"});
  SandboxVerdict v = Decide(generic, kill);
  EXPECT_FALSE(v.allow);
  EXPECT_EQ(v.missing, "killSys grant");
  EXPECT_EQ(v.asked, "kill");
  kill.detail = "pid 1";
  EXPECT_EQ(Decide(generic, kill).asked, "kill(pid 1)");
  kill.detail.clear();
  EXPECT_TRUE(Decide(Dom({}, {}, {"genericSys", "killSys"}), kill).allow);
  kill.syscall_class = "genericSys";  // a signal to itself
  EXPECT_TRUE(Decide(generic, kill).allow);
  SandboxRequest read;
  read.nr = seccomp_syscall_resolve_name("read");
  EXPECT_EQ(Decide(Dom({}, {}, {"killSys"}), read).missing, "genericSys grant");
  // A socket call needs its class and its -c rule.
  SandboxRules sock = Dom({"unix_socket_create"}, {}, {"genericSys"});
  EXPECT_EQ(Decide(sock, Create(AF_UNIX, SOCK_STREAM)).missing, "socketSys grant");
  // Every rule the call lacks is named at once (issue 19.2), in warning level too.
  SandboxRules bare = Dom({}, {}, {"genericSys"});
  EXPECT_EQ(Decide(bare, Create(AF_INET, SOCK_STREAM)).missing,
            "socketSys grant; -c inet_stream_socket_create grant");
  bare.level = Level::kWarning;
  SandboxVerdict bind = Decide(bare, Inet("bind", "127.0.0.1"));
  EXPECT_TRUE(bind.allow);
  EXPECT_EQ(bind.missing, "socketSys grant; -p inet_socket_bind loopback grant");
  EXPECT_EQ(Decide(bare, Create(AF_PACKET, SOCK_RAW)).missing,
            "socketSys grant; no rule grants AF_PACKET sockets");
  sock.syscall_classes.insert("socketSys");
  EXPECT_TRUE(Decide(sock, Create(AF_UNIX, SOCK_STREAM)).allow);
}

TEST(FilterPlan, OnlyClassesSomeDomainRestricts) {
  SandboxRules none = Dom({}, {});
  EXPECT_EQ(FormatPlan(PlanFilter({none})), "-");
  SandboxRules most = Dom(
      {}, {},
      {"genericSys", "forkExecSys", "openSys", "killSys", "socketSys", "mountSys", "ptraceSys"});
  EXPECT_EQ(FormatPlan(PlanFilter({none, most})), "moduleSys");
  SandboxRules free = Dom({}, {}, {"killSys"});
  free.unconfined = true;
  EXPECT_EQ(FormatPlan(PlanFilter({free})), "-");
  // Socket calls are sent only when the world can be in a confined domain.
  EXPECT_TRUE(PlanFilter({none}).sockets);
  EXPECT_TRUE(PlanFilter({free, none}).sockets);
  EXPECT_FALSE(PlanFilter({free}).sockets);
  EXPECT_FALSE(PlanFilter({}).sockets);
  // Executable mappings of files likewise (issue 12.6).
  EXPECT_TRUE(PlanFilter({none}).exec_maps);
  EXPECT_FALSE(PlanFilter({free}).exec_maps);
  FilterPlan p;
  ASSERT_TRUE(ParsePlan("genericSys,killSys", &p).ok());
  EXPECT_EQ(FormatPlan(p), "genericSys,killSys");
  Status s = ParsePlan("genericSys,bogusSys", &p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bogusSys"), std::string::npos);
}

}  // namespace
}  // namespace sptfs
