// vmx-standin: a stand-in for ESXi's VM process (`vmx`) in the productLocker scenario.
//
//   vmx-standin [--log FILE] [--hold] ISO_PATH
//
// Opens ISO_PATH for reading the way vmx opens the Tools ISO and logs the outcome in
// vmware.log style ("<ISO time>| vmx| | I005: ..."), to FILE (appended) or stdout.
// A failed open logs the three lines of the seed, with VMware's FileIOResult for the
// errno: 6 for ENOENT, 7 for EACCES, 2 (generic) for anything else, EPERM included.
// --hold: after a successful open, print "holding" on stdout and wait for a line on
// stdin, then read the whole file again through the same descriptor (the policy is
// checked at open, so a reload meanwhile must not break an open file).
// Exit status: 0 opened (and read), 1 open failed, 3 read failed, 2 usage.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>

namespace {

// VMware's file layer maps errno to FileIOResult: only these two are distinguished.
int FileIoResult(int err) {
  if (err == ENOENT) return 6;
  if (err == EACCES) return 7;
  return 2;
}

// "2021-10-05T04:43:53.966Z", as vmware.log prints it.
std::string IsoTime() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  std::time_t secs = ms.count() / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return buf;
}

class Log {
 public:
  explicit Log(FILE* out) : out_(out) {}
  void Line(const std::string& text) {
    std::fprintf(out_, "%s| vmx| | I005: %s\n", IsoTime().c_str(), text.c_str());
    std::fflush(out_);
  }

 private:
  FILE* out_;
};

// vmx names the file it reached: the path after symlinks, if it resolves.
std::string Resolved(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

// Reads the whole file from offset 0 through `fd`; returns bytes read or -1 (errno set).
long long ReadAll(int fd) {
  char buf[65536];
  long long total = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), total);
    if (n < 0) return -1;
    if (n == 0) return total;
    total += n;
  }
}

int Usage() {
  std::fprintf(stderr, "usage: vmx-standin [--log FILE] [--hold] ISO_PATH\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string log_path, iso;
  bool hold = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--log" && i + 1 < argc) {
      log_path = argv[++i];
    } else if (arg == "--hold") {
      hold = true;
    } else if (!arg.empty() && arg[0] != '-' && iso.empty()) {
      iso = arg;
    } else {
      return Usage();
    }
  }
  if (iso.empty()) return Usage();
  FILE* out = stdout;
  if (!log_path.empty() && (out = std::fopen(log_path.c_str(), "a")) == nullptr) {
    std::fprintf(stderr, "vmx-standin: %s: %s\n", log_path.c_str(), std::strerror(errno));
    return 2;
  }
  Log log(out);
  std::string name = Resolved(iso);
  int fd = open(iso.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    log.Line("ToolsISO: Failed to open Tools ISO " + name +
             " (FileIOResult=" + std::to_string(FileIoResult(err)) + ").");
    log.Line("Cannot open ISO image with upgrader binaries.");
    log.Line("TOOLS INSTALL entering IDLE state.");
    std::fprintf(stderr, "vmx-standin: open %s: %s\n", iso.c_str(), std::strerror(err));
    return 1;
  }
  struct stat st {};
  fstat(fd, &st);
  log.Line("ToolsISO: Opened Tools ISO " + name + " (" + std::to_string(st.st_size) + " bytes).");
  if (hold) {
    std::printf("holding\n");
    std::fflush(stdout);
    std::string line;
    std::getline(std::cin, line);
  }
  long long n = ReadAll(fd);
  if (n < 0) {
    int err = errno;
    log.Line("ToolsISO: Failed to read Tools ISO " + name +
             " (FileIOResult=" + std::to_string(FileIoResult(err)) + ").");
    return 3;
  }
  log.Line("ToolsISO: Read " + std::to_string(n) + " bytes from Tools ISO " + name + ".");
  close(fd);
  return 0;
}
