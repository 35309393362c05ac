// Cost of DomainTracker::Identify (domains/tracker.h), which the FUSE edge calls once per
// mediated request. BM_IdentifyCached: the same thread again (the steady state: with
// process events one empty recv(), without them one read of /proc/<tid>/stat).
// BM_IdentifyDuringForkStorm / BM_IdentifyDuringPlaceStorm: the same call while another
// thread of this (placed) process forks short-lived children as fast as it can (each
// fork, thread start and exit is a process event, each child a new record: state file
// saves), or places a process again and again (a state file write each time); the
// counters give the median and p99 of one Identify (docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "domains/proc_events.h"
#include "domains/tracker.h"

namespace {

std::unique_ptr<sptfs::DomainTracker> PlacedTracker(const std::string& state = "") {
  std::unique_ptr<sptfs::DomainTracker> t;
  if (!sptfs::DomainTracker::Open(state, &t).ok() || !t->Place(getpid(), 5).ok()) std::abort();
  return t;
}

void BM_IdentifyCached(benchmark::State& state) {
  auto t = PlacedTracker();
  pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  for (auto _ : state) {
    sptfs::CallerInfo c = t->Identify(tid, 1);
    if (c.domain != 5) state.SkipWithError("wrong domain");
    benchmark::DoNotOptimize(c);
  }
  state.SetLabel(sptfs::ProcEvents::Open() ? "process events" : "no process events");
}
BENCHMARK(BM_IdentifyCached);

// Times each Identify of this thread while `storm` runs on another thread (it is called
// until `stop` is set and returns how much it did); median and p99 as counters.
void IdentifyDuring(benchmark::State& state, sptfs::DomainTracker* t,
                    const std::function<long(const std::atomic<bool>&)>& storm) {
  std::atomic<bool> stop{false};
  long done = 0;
  std::thread th([&] { done = storm(stop); });
  pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  std::vector<double> ns;
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    auto a = std::chrono::steady_clock::now();
    sptfs::CallerInfo c = t->Identify(tid, 1);
    auto b = std::chrono::steady_clock::now();
    if (c.domain != 5) state.SkipWithError("wrong domain");
    ns.push_back(std::chrono::duration<double, std::nano>(b - a).count());
    usleep(100);  // a caller that asks now and then, not a second storm
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop = true;
  th.join();
  std::sort(ns.begin(), ns.end());
  state.counters["median_ns"] = ns[ns.size() / 2];
  state.counters["p99_ns"] = ns[std::min(ns.size() - 1, ns.size() * 99 / 100)];
  state.counters["storm_per_s"] = static_cast<double>(done) / secs;
}

std::string StateFile() {
  return "/tmp/sptfs-tracker-bench-" + std::to_string(getpid()) + ".state";
}

void BM_IdentifyDuringForkStorm(benchmark::State& state) {
  std::string file = StateFile();
  {
    auto t = PlacedTracker(file);
    IdentifyDuring(state, t.get(), [](const std::atomic<bool>& stop) {
      long forks = 0;
      while (!stop) {
        pid_t p = fork();
        if (p == 0) _exit(0);
        if (p > 0) waitpid(p, nullptr, 0);
        ++forks;
      }
      return forks;
    });
  }
  unlink(file.c_str());
}
BENCHMARK(BM_IdentifyDuringForkStorm)->Iterations(20000)->UseRealTime();

void BM_IdentifyDuringPlaceStorm(benchmark::State& state) {
  std::string file = StateFile();
  pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  {
    auto t = PlacedTracker(file);
    IdentifyDuring(state, t.get(), [&](const std::atomic<bool>& stop) {
      long places = 0;
      for (; !stop; ++places) {
        if (!t->Place(child, 6 + places % 2).ok()) std::abort();
      }
      return places;
    });
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  unlink(file.c_str());
}
BENCHMARK(BM_IdentifyDuringPlaceStorm)->Iterations(20000)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
