// Cost of DomainTracker::Identify (domains/tracker.h), which the FUSE edge calls once per
// mediated request. BM_IdentifyCached: the same thread again (the steady state: with
// process events one empty recv(), without them one read of /proc/<tid>/stat).
#include <benchmark/benchmark.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "domains/proc_events.h"
#include "domains/tracker.h"

namespace {

std::unique_ptr<sptfs::DomainTracker> PlacedTracker() {
  std::unique_ptr<sptfs::DomainTracker> t;
  if (!sptfs::DomainTracker::Open("", &t).ok() || !t->Place(getpid(), 5).ok()) std::abort();
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

}  // namespace

BENCHMARK_MAIN();
