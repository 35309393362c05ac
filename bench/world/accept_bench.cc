// A small accept/recv server and its load generator, for bench/world/world_bench.py
// (docs/PERFORMANCE.md, "Confined worlds"). The server does per connection what a
// web server does per request: accept4, setsockopt(TCP_NODELAY), recv the request,
// send a reply, close. The client opens a new connection per request.
//
//   accept_bench serve PORT          # until killed; prints "ready" once listening
//   accept_bench load PORT SECONDS   # prints "requests/s N"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

const char kRequest[] = "GET / HTTP/1.0\r\n\r\n";
const char kReply[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int Serve(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = Loopback(port);
  if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(s, 512) != 0) {
    std::perror("accept_bench: serve");
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  char buf[1024];
  for (;;) {
    int c = accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (recv(c, buf, sizeof(buf), 0) > 0) send(c, kReply, sizeof(kReply) - 1, MSG_NOSIGNAL);
    close(c);
  }
}

int Load(int port, double seconds) {
  sockaddr_in a = Loopback(port);
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  long done = 0;
  char buf[1024];
  while (std::chrono::steady_clock::now() < end) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      std::perror("accept_bench: connect");
      return 1;
    }
    send(c, kRequest, sizeof(kRequest) - 1, MSG_NOSIGNAL);
    while (recv(c, buf, sizeof(buf), 0) > 0) {
    }
    close(c);
    ++done;
  }
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("requests/s %.0f\n", done / took);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "serve") == 0) return Serve(std::atoi(argv[2]));
  if (argc == 4 && std::strcmp(argv[1], "load") == 0) {
    return Load(std::atoi(argv[2]), std::atof(argv[3]));
  }
  std::fprintf(stderr, "usage: accept_bench serve PORT | accept_bench load PORT SECONDS\n");
  return 2;
}
