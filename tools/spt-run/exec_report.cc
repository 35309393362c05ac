// The exec failure report: one SOCK_SEQPACKET message from CMD's process to spt-run,
//   'E' | i32 errno | i64 start_ms | path bytes
// (host byte order: both ends are this program on this machine), answered by one byte
// 'p' once spt-run has printed the line.
#include "exec_report.h"

#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "control/client.h"

namespace sptfs {
namespace {

constexpr size_t kHeader = 1 + sizeof(int32_t) + sizeof(int64_t);

int ExitCodeFor(int err) { return err == ENOENT ? 127 : 126; }

void PrintPlain(const std::string& cmd, int err) {
  std::fprintf(stderr, "spt-run: %s: %s\n", cmd.c_str(), strerror(err));
}

// "1733212345.123" -> ms; -1 if not that.
int64_t ParseTimeMs(const std::string& text) {
  char* end = nullptr;
  long long sec = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '.') return -1;
  char* end2 = nullptr;
  long long ms = std::strtoll(end + 1, &end2, 10);
  if (end2 != end + 4 || *end2 != '\0') return -1;
  return sec * 1000 + ms;
}

std::string Field(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

int64_t RealtimeMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string ExecutedPath(const std::string& cmd) {
  std::string found = cmd;
  if (cmd.find('/') == std::string::npos) {
    const char* env = std::getenv("PATH");
    std::string path = env != nullptr && *env ? env : "/bin:/usr/bin";  // glibc's default
    size_t at = 0;
    for (;;) {
      size_t colon = path.find(':', at);
      std::string dir = path.substr(at, colon == std::string::npos ? colon : colon - at);
      std::string candidate = (dir.empty() ? "." : dir) + "/" + cmd;
      if (access(candidate.c_str(), F_OK) == 0) {
        found = candidate;
        break;
      }
      if (colon == std::string::npos) break;
      at = colon + 1;
    }
  }
  char real[PATH_MAX];
  return realpath(found.c_str(), real) != nullptr ? std::string(real) : found;
}

void ReportExecFailure(int fd, const std::string& cmd, int err, int64_t start_ms) {
  std::string msg(kHeader, '\0');
  msg[0] = 'E';
  int32_t e = err;
  std::memcpy(&msg[1], &e, sizeof(e));
  std::memcpy(&msg[1 + sizeof(e)], &start_ms, sizeof(start_ms));
  msg += ExecutedPath(cmd);
  char answer = 0;
  if (send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(msg.size())) {
    // No timeout of our own: spt-run answers once its daemon call is over (that call has
    // the client's timeouts), or its end closes when it dies. Printing first and being
    // answered later would print the line twice.
    while (read(fd, &answer, 1) < 0 && errno == EINTR) {
    }
  }
  if (answer != 'p') PrintPlain(cmd, err);
  _exit(ExitCodeFor(err));
}

std::map<std::string, std::string> ParseDenial(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    std::string line = text.substr(at, nl == std::string::npos ? nl : nl - at);
    size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

std::string ExecFailureLine(const std::string& cmd, const ExecFailure& failure,
                            const std::map<std::string, std::string>& denial,
                            const std::string& prefix) {
  std::string plain = "spt-run: " + cmd + ": " + strerror(failure.err);
  std::string tree_path = Field(denial, "path");
  if (tree_path.empty() || tree_path[0] != '/') return plain;
  int64_t when = ParseTimeMs(Field(denial, "time"));
  if (when < failure.start_ms) return plain;  // from before this exec: not its cause
  std::string path = prefix.empty() ? tree_path : prefix + (tree_path == "/" ? "" : tree_path);
  if (path == failure.path) return plain;  // CMD itself: the plain line says it all
  std::string requested = Field(denial, "requested");
  std::string domain = Field(denial, "domain");
  domain = domain.substr(0, domain.find('('));
  std::string rule = Field(denial, "rule");
  std::string what =
      requested.find('x') != std::string::npos ? "its loader or interpreter " + path : path;
  return plain + ": " + what + " was denied (" + (requested.empty() ? "none" : requested) +
         ", label " + Field(denial, "label") + ", domain " + domain +
         (rule.empty() || rule == "no rule" ? "" : ", rule " + rule) + ")";
}

void ServeExecReports(int fd, const std::string& socket, pid_t world, const std::string& cmd,
                      const std::function<std::string()>& prefix) {
  std::vector<char> buf(kHeader + PATH_MAX + 1);
  ssize_t n;
  while ((n = recv(fd, buf.data(), buf.size(), 0)) < 0 && errno == EINTR) {
  }
  // Closed: the exec succeeded (or the world ended). One report at most: the program's
  // process exits after it.
  if (n < static_cast<ssize_t>(kHeader) || buf[0] != 'E') return;
  ExecFailure failure;
  int32_t e = 0;
  std::memcpy(&e, &buf[1], sizeof(e));
  std::memcpy(&failure.start_ms, &buf[1 + sizeof(e)], sizeof(failure.start_ms));
  failure.err = e;
  failure.path.assign(buf.data() + kHeader, static_cast<size_t>(n) - kHeader);
  Reply reply;
  std::map<std::string, std::string> denial;
  if (CallDaemon(socket, {"last-denial", std::to_string(world)}, &reply).ok() &&
      reply.exit_code == 0) {
    denial = ParseDenial(reply.out);
  }
  std::fprintf(stderr, "%s\n", ExecFailureLine(cmd, failure, denial, prefix()).c_str());
  (void)!send(fd, "p", 1, MSG_NOSIGNAL);
}

}  // namespace sptfs
