// Partition-rebalance latency under Google Benchmark: a thin wrapper over
// `kactor bench rebalance` (src/cli/rebalance_bench.hpp), one repetition of
// the tool per benchmark iteration, members as separate processes (this
// executable, started as `rebalance_bench bench rebalance-member ...`).
//
// Variants: a member joining a one-member group with cooperative (incremental)
// assignment, with kactor's periodic commit out of the way, with a 10 ms
// statistics interval, and with eager range assignment; then cooperative
// again for a member leaving (SIGTERM), crashing (SIGKILL: the group waits
// out the 6 s session timeout) and a static member restarting; and a join
// where the members emit each record to a second topic, so revocation waits
// for acknowledgements (revoke_callback_ms).
//
// Counters per repetition (see src/cli/rebalance_timeline.hpp for the exact
// definitions; `change` is the join, stop, kill or restart):
//
//   moved_first_p50_ms / _max_ms  change -> first record handled by the new
//                    owner, over the partitions that moved.
//   kept_gap_max_ms  the longest gap between consecutive records of a
//                    partition that did not move, across the rebalance.
//   kept_revoked     how many of those the member had revoked meanwhile.
//   steady_gap_max_ms  the same gap over all partitions in the second before
//                    the change: the floor set by the feed rate and batching.
//   steady_cpu_ms    the members' CPU over that second.
//   revoke_callback_ms  how long a member that stayed held its last
//                    revocation callback (agent_stats::last_revoke).
//
// The manual time of a repetition is change -> settled. Over repetitions
// Google Benchmark reports mean, median, stddev, cv, p99 and max of each
// counter; after the run a summary pools every per-partition sample.
//
//   KACTOR_BROKERS=127.0.0.1:9092 rebalance_bench [--rate=2000]
//
// A real broker is required: the embedded mock cluster's group coordinator
// treats the first member as lost when a second joins, so its figures would
// describe nothing. `--rate` (or KACTOR_BENCH_RATE) is records/s over the
// whole 8-partition topic. Defaults: 5 repetitions, aggregates only;
// --benchmark_* flags override them.

#include <cstdio>
#include <string>
#include <vector>

#include "benchmarks/bench_support.hpp"
#include "src/cli/rebalance_bench.hpp"

namespace {

using namespace kactor;
using detail::rebalance_scenario;

/// One benchmarked configuration, and every per-partition sample of its
/// repetitions for the summary.
struct variant {
  const char* name;
  detail::rebalance_options options;
  std::vector<double> moved_first_ms, kept_gap_ms;
};

variant make(const char* name, rebalance_scenario s,
             assignor_kind a = assignor_kind::cooperative_sticky) {
  variant v{name, {}, {}, {}};
  v.options.scenario = s;
  v.options.assignor = a;
  std::tie(v.options.members_before, v.options.members_after) = detail::default_members(s);
  v.options.repetitions = 1;
  return v;
}

void bm_rebalance(benchmark::State& state, variant& v) {
  for (auto _ : state) {
    detail::rebalance_report report;
    try {
      report = detail::run_rebalance_bench(v.options, [](const std::string&) {});
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      break;
    }
    const auto& run = report.runs.at(0);
    const auto& m = run.measures;
    std::vector<double> moved, kept;
    for (const auto& p : m.moved) moved.push_back(p.first_record_ms);
    for (const auto& p : m.unmoved) kept.push_back(p.longest_gap_ms);
    state.SetIterationTime(m.settle_ms / 1000.0);
    state.counters["moved_partitions"] = static_cast<double>(moved.size());
    state.counters["moved_first_p50_ms"] = bench::quantile(moved, 0.5);
    state.counters["moved_first_max_ms"] = bench::quantile(moved, 1.0);
    state.counters["kept_gap_max_ms"] = bench::quantile(kept, 1.0);
    state.counters["kept_revoked"] = m.partitions_revoked;
    state.counters["steady_gap_max_ms"] = m.steady_gap_ms;
    state.counters["steady_cpu_ms"] = run.steady_cpu_ms;
    state.counters["revoke_callback_ms"] = m.revoke_callback_ms;
    v.moved_first_ms.insert(v.moved_first_ms.end(), moved.begin(), moved.end());
    v.kept_gap_ms.insert(v.kept_gap_ms.end(), kept.begin(), kept.end());
  }
}

void print_pooled(const variant& v) {
  auto line = [](const char* what, const std::vector<double>& v) {
    std::printf("  %-14s n=%-3zu p50 %8.1f ms   p99 %8.1f ms   max %8.1f ms\n", what, v.size(),
                bench::quantile(v, 0.5), bench::quantile(v, 0.99), bench::quantile(v, 1.0));
  };
  std::printf("%s (pooled over repetitions, one sample per partition):\n", v.name);
  line("moved_first", v.moved_first_ms);
  line("kept_gap", v.kept_gap_ms);
}

}  // namespace

int main(int argc, char** argv) {
  if (auto member = detail::run_rebalance_member_if_invoked(argc, argv)) return *member;
  const auto rate = bench::take_int_flag(argc, argv, "--rate", "KACTOR_BENCH_RATE", 2000);
  if (!bench::initialize(argc, argv, 5)) return 1;
  const char* brokers = std::getenv("KACTOR_BROKERS");
  if (!brokers || !*brokers) {
    std::fprintf(stderr,
                 "rebalance_bench: set KACTOR_BROKERS to a real broker (scripts/kafka.sh fresh "
                 "DIR; DIR/bootstrap.txt): the embedded mock cluster's group coordinator does "
                 "not describe a real one\n");
    return 1;
  }
  benchmark::AddCustomContext("broker", brokers);
  benchmark::AddCustomContext("feed_records_per_s", std::to_string(rate));

  std::vector<variant> variants = {
      make("rebalance/cooperative_sticky", rebalance_scenario::join),
      make("rebalance/cooperative_sticky_no_periodic_commit", rebalance_scenario::join),
      make("rebalance/cooperative_sticky_statistics_10ms", rebalance_scenario::join),
      make("rebalance/range_eager", rebalance_scenario::join, assignor_kind::range),
      make("rebalance/cooperative_sticky_leave", rebalance_scenario::leave),
      make("rebalance/cooperative_sticky_crash", rebalance_scenario::crash),
      make("rebalance/cooperative_sticky_static_restart", rebalance_scenario::restart),
      make("rebalance/cooperative_sticky_producing", rebalance_scenario::join),
  };
  // librdkafka 2.0.2 treats an ILLEGAL_GENERATION answer to a commit sent
  // during a rebalance as the loss of the whole assignment (librdkafka issue
  // #4059): this variant pushes periodic commits past the measurement
  // (offsets are still committed on revocation).
  variants[1].options.commit_interval = std::chrono::hours(1);
  // librdkafka 2.0.2's main thread wakes on its timers: a short statistics
  // interval notices the rebalance's next step sooner, at a CPU cost.
  variants[2].options.consumer["statistics.interval.ms"] = "10";
  variants[6].options.static_members = true;
  // Members that emit each record: revocation waits for the acknowledgements.
  variants[7].options.produce = true;
  for (auto& v : variants) {
    v.options.brokers = brokers;
    v.options.rate = rate;
    bench::with_tail_statistics(
        benchmark::RegisterBenchmark(v.name, [&v](benchmark::State& s) { bm_rebalance(s, v); }))
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();

  for (const auto& v : variants)
    if (!v.moved_first_ms.empty()) print_pooled(v);
  benchmark::Shutdown();
  return 0;
}
