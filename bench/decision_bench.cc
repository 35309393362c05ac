// Cost of one Decide() (policy/decision.h) on synthetic policies: 100 domains, path
// rules 4-12 components deep, requests 8-16 components deep (most under some rule, some
// under none). BM_Decide is the case (10,000 rules); BM_DecideScaling grows the
// rules 100 -> 100,000 over the same 100 domains, BM_DecideOneDomain puts them all in
// one domain, BM_DecideHot replays a few requests. A component trie makes the cost depend on path
// depth, not rule count.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "policy/compiler.h"
#include "policy/decision.h"
#include "policy/rule_parser.h"

namespace {

using sptfs::DomainId;

struct Workload {
  std::shared_ptr<const sptfs::CompiledPolicy> policy;
  std::vector<std::pair<DomainId, std::string>> requests;
};

std::string RandomPath(std::mt19937& rng, int depth, const std::string& prefix = "") {
  std::uniform_int_distribution<int> name(0, 199);
  std::string path = prefix;
  for (int i = 0; i < depth; ++i) path += "/c" + std::to_string(name(rng));
  return path;
}

sptfs::Rule PathRule(const std::string& path, int i) {
  static const char* kPerms[] = {"r", "rw", "rx", ""};
  sptfs::Rule rule;
  std::string text = "-r " + path + " " + kPerms[i % 4];
  if (!sptfs::ParseRule(text, {"bench", i}, &rule).ok()) std::abort();
  return rule;
}

Workload Build(int domains, int rules, int requests) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> rule_depth(4, 12), request_depth(8, 16), pct(0, 99);
  sptfs::PolicySet set;
  set.dir = "bench";
  set.default_domain = "d0";
  set.labels = {{"unlabeled", 0, {}}};
  std::vector<std::vector<std::string>> paths(domains);
  for (int d = 0; d < domains; ++d) {
    set.domains.push_back({"d" + std::to_string(d),
                           static_cast<DomainId>(d),
                           sptfs::Level::kEnforcing,
                           false,
                           {},
                           {},
                           {}});
  }
  for (int i = 0; i < rules; ++i) {
    int d = i % domains;
    paths[d].push_back(RandomPath(rng, rule_depth(rng)));
    set.domains[d].rules.push_back(PathRule(paths[d].back(), i));
  }
  Workload w;
  sptfs::LiteralTree tree;
  if (!sptfs::Compile(set, tree, 1, &w.policy, nullptr).ok()) std::abort();
  for (int i = 0; i < requests; ++i) {
    int d = static_cast<int>(rng() % domains);
    int depth = request_depth(rng);
    const auto& mine = paths[d];
    std::string path;
    if (!mine.empty() && pct(rng) < 90) {  // 90%: below one of the domain's rules
      const std::string& base = mine[rng() % mine.size()];
      int base_depth = static_cast<int>(std::count(base.begin(), base.end(), '/'));
      path = RandomPath(rng, std::max(0, depth - base_depth), base);
    } else {
      path = RandomPath(rng, depth);
    }
    w.requests.emplace_back(static_cast<DomainId>(d), path);
  }
  return w;
}

void Run(benchmark::State& state, const Workload& w) {
  size_t i = 0, allowed = 0;
  for (auto _ : state) {
    const auto& [domain, path] = w.requests[i];
    sptfs::Decision d =
        sptfs::Decide(*w.policy, domain, path, sptfs::kUnlabeledId, sptfs::kPermRead);
    allowed += d.allowed();
    benchmark::DoNotOptimize(d);
    if (++i == w.requests.size()) i = 0;
  }
  state.counters["allowed_pct"] = 100.0 * static_cast<double>(allowed) /
                                  static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

void BM_Decide(benchmark::State& state) {
  static const Workload w = Build(100, 10000, 4096);
  Run(state, w);
}
BENCHMARK(BM_Decide);

void BM_DecideScaling(benchmark::State& state) {
  Workload w = Build(100, static_cast<int>(state.range(0)), 4096);
  Run(state, w);
}
BENCHMARK(BM_DecideScaling)->ArgName("rules")->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_DecideOneDomain(benchmark::State& state) {
  Workload w = Build(1, static_cast<int>(state.range(0)), 4096);
  Run(state, w);
}
BENCHMARK(BM_DecideOneDomain)->ArgName("rules")->Arg(100)->Arg(10000)->Arg(100000);

// The same policies with 64 distinct requests: the working set stays in cache, so this
// shows the algorithm's cost alone (flat in the rule count).
void BM_DecideHot(benchmark::State& state) {
  Workload w = Build(100, static_cast<int>(state.range(0)), 64);
  Run(state, w);
}
BENCHMARK(BM_DecideHot)->ArgName("rules")->Arg(100)->Arg(10000)->Arg(100000);

}  // namespace

BENCHMARK_MAIN();
