// Cost of spt-run's Landlock layer on host paths (issue 13; docs/PERFORMANCE.md,
// "Host paths under Landlock"). Each measurement runs in a fresh child process, native or
// inside the Landlock domain spt-run would build (the same planner and edge:
// sandbox/landlock_rules.h, landlock_apply.h) for a domain with the usual host rules
// (-r /bin /usr /lib /lib64 rx, /etc/ld.so.cache r, /proc /dev rw) plus `-r FILE r`.
// Runs alternate native, Landlock, Landlock, native ... so drift hits both alike.
//
//   landlock_bench [--runs N] [--opens N] [--execs N] [--connects N] FILE [BINARY]
//   landlock_bench --plain-connects N    (used by bench/landlock_connect.py)
//
// open:    open+read(1)+close of FILE, --opens times (default 100,000), CPU ns per op
// exec:    posix_spawn+waitpid of BINARY (default /usr/bin/true), --execs times, wall µs
//          per op (the work is in the children)
// connect: TCP connect to 127.0.0.1:1 (nothing listens); native it is refused by the
//          stack (ECONNREFUSED), under Landlock it is denied first (EACCES), CPU ns per op
// Prints every run and the median of each, and the median ratio Landlock / native.
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/landlock_apply.h"
#include "sandbox/landlock_rules.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// CPU time (user + system) of the calling thread: on this shared machine wall time
// mostly measures the other load, and these loops spend all their time in the kernel
// on the caller's behalf.
double CpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct Args {
  int runs = 5;
  long opens = 100000;
  long execs = 2000;
  long connects = 100000;
  std::string file;
  std::string binary = "/usr/bin/true";
};

void EnterLandlock(const Args& a) {
  sptfs::LandlockDomain d;
  d.name = "benchDom";
  for (const char* p : {"/bin", "/usr", "/lib", "/lib64"}) {
    d.paths.emplace_back(p, sptfs::kPermRead | sptfs::kPermExec);
  }
  d.paths.emplace_back("/etc/ld.so.cache", sptfs::kPermRead);
  d.paths.emplace_back("/proc", sptfs::kPermRead | sptfs::kPermWrite);
  d.paths.emplace_back("/dev", sptfs::kPermRead | sptfs::kPermWrite);
  d.paths.emplace_back(a.file, sptfs::kPermRead);
  int abi = sptfs::LandlockAbi();
  sptfs::RealHostView host;
  sptfs::LandlockPlan plan = sptfs::PlanLandlock({&d}, "/nonexistent/bench-mount", abi, &host);
  if (abi < 1 || !plan.confined || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      !sptfs::ApplyLandlock(plan, abi).ok()) {
    std::fprintf(stderr, "landlock_bench: cannot enter a Landlock domain (ABI %d)\n", abi);
    std::exit(2);
  }
}

double Opens(const Args& a) {
  char c;
  double t0 = CpuNs();
  for (long i = 0; i < a.opens; ++i) {
    int fd = open(a.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &c, 1) < 0) std::exit(3);
    close(fd);
  }
  return (CpuNs() - t0) / a.opens;
}

double Execs(const Args& a) {
  char* argv[] = {const_cast<char*>(a.binary.c_str()), nullptr};
  auto t0 = Clock::now();
  for (long i = 0; i < a.execs; ++i) {
    pid_t pid;
    int st = 0;
    if (posix_spawn(&pid, a.binary.c_str(), nullptr, nullptr, argv, environ) != 0 ||
        waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      std::exit(4);
    }
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / a.execs;
}

double Connects(const Args& a) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(1);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) std::exit(5);
  double t0 = CpuNs();
  for (long i = 0; i < a.connects; ++i) {
    if (connect(s, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0) std::exit(6);
  }
  double ns = (CpuNs() - t0) / a.connects;
  close(s);
  return ns;
}

// One measurement in a child (a Landlock domain cannot be left), result through a pipe.
double InChild(const Args& a, bool landlock, double (*what)(const Args&)) {
  int p[2];
  if (pipe(p) != 0) std::exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    if (landlock) EnterLandlock(a);
    double v = what(a);
    if (write(p[1], &v, sizeof(v)) != sizeof(v)) _exit(1);
    _exit(0);
  }
  close(p[1]);
  double v = -1;
  if (read(p[0], &v, sizeof(v)) != sizeof(v)) v = -1;
  close(p[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (v < 0) {
    std::fprintf(stderr, "landlock_bench: a %s run failed (status %d)\n",
                 landlock ? "Landlock" : "native", st);
    std::exit(1);
  }
  return v;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Measure(const Args& a, const char* name, const char* unit, double (*what)(const Args&)) {
  std::vector<double> native, landlock, ratios;
  for (int i = 0; i < a.runs; ++i) {
    bool landlock_first = i % 2 == 1;  // N L, L N, N L, ...
    double n = 0, l = 0;
    if (landlock_first) l = InChild(a, true, what);
    n = InChild(a, false, what);
    if (!landlock_first) l = InChild(a, true, what);
    native.push_back(n);
    landlock.push_back(l);
    ratios.push_back(l / n);
  }
  std::printf("%s (%s per op)\n  native:  ", name, unit);
  for (double v : native) std::printf(" %.2f", v);
  std::printf("\n  landlock:");
  for (double v : landlock) std::printf(" %.2f", v);
  std::printf("\n  median native %.2f, median landlock %.2f, median of run ratios %.3fx\n",
              Median(native), Median(landlock), Median(ratios));
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc == 3 && std::string(argv[1]) == "--plain-connects") {
    // One connect loop where this process runs (a world: each call is notified), in
    // wall time because the supervisor's work is in another process. Prints ns per op.
    a.connects = std::strtol(argv[2], nullptr, 10);
    if (a.connects < 1) return 2;
    auto t0 = Clock::now();
    Connects(a);
    std::printf("%.1f\n",
                std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / a.connects);
    return 0;
  }
  int i = 1;
  for (; i + 1 < argc && std::strncmp(argv[i], "--", 2) == 0; i += 2) {
    std::string opt = argv[i];
    long v = std::strtol(argv[i + 1], nullptr, 10);
    if (opt == "--runs")
      a.runs = static_cast<int>(v);
    else if (opt == "--opens")
      a.opens = v;
    else if (opt == "--execs")
      a.execs = v;
    else if (opt == "--connects")
      a.connects = v;
    else {
      std::fprintf(stderr, "landlock_bench: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (i >= argc || argv[i][0] != '/' || a.runs < 1) {
    std::fprintf(stderr,
                 "usage: landlock_bench [--runs N] [--opens N] [--execs N] [--connects N] "
                 "/ABSOLUTE/FILE [/BINARY]\n");
    return 2;
  }
  a.file = argv[i];
  if (i + 1 < argc) a.binary = argv[i + 1];
  std::printf("Landlock ABI %d, %d alternated runs\n", sptfs::LandlockAbi(), a.runs);
  Measure(a, "open+read(1)+close of a granted host file", "CPU ns", Opens);
  Measure(a, "posix_spawn+waitpid of a dynamically linked binary", "wall us", Execs);
  Measure(a, "denied TCP connect to 127.0.0.1:1", "CPU ns", Connects);
  return 0;
}
