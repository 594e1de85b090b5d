// Partition-rebalance latency: a second member joins a one-member group that
// is processing a live topic, with cooperative (incremental) and eager
// (stop-the-world, range) assignment, and cooperative once more with kactor's
// periodic commit out of the way (see `variant::commit_interval`) and with a
// 10 ms statistics interval (see `variant::statistics_interval`).
//
// Per repetition: a fresh 8-partition topic is fed at a steady rate, round
// robin over its partitions, by a producer thread. Member A (a kactor runtime)
// joins a fresh group, gets all 8 partitions and runs for a second of steady
// state. Then member B (a second runtime in this process, same group) starts.
// Handlers record when each record was handled, per partition and member.
// Measured, with `join` the moment B's start() is called and `settle` the
// moment the last partition B received handled its first record:
//
//   moved_first_ms   join -> first record handled by B, per partition B got:
//                    how long a moved partition stands still.
//   kept_gap_ms      the longest gap between consecutive records handled by A
//                    on a partition A still holds after settle (the gaps that
//                    end after join and start before settle): how long the
//                    rebalance stalls partitions that did not move. Eager
//                    assignment revokes them too; cooperative should not.
//   kept_revoked     how many of those partitions A had revoked meanwhile.
//   steady_gap_ms    the same gap over all partitions in the second before
//                    join: the floor set by the feed rate and fetch batching.
//   steady_cpu_ms    this process's CPU over that second (member A and the
//                    feeder): what the variant's settings cost at this rate.
//   revoke_callback_ms  how long A's last revocation held the rebalance
//                    callback (agent_stats::last_revoke): stopping the
//                    revoked partitions' actors and committing their offsets.
//
// Handlers only record; they emit nothing, so revocation waits for no acks.
//
// The manual time of a repetition is join -> settle. Over repetitions Google
// Benchmark reports mean, median, stddev, cv, p99 and max of each counter;
// after the run a summary pools every per-partition sample of all repetitions.
//
//   KACTOR_BROKERS=127.0.0.1:9092 rebalance_bench [--rate=2000]
//
// `--rate` (or KACTOR_BENCH_RATE) is records/s over the whole topic. Defaults:
// 5 repetitions, aggregates only; --benchmark_* flags override them. Without
// KACTOR_BROKERS the embedded mock cluster is used, whose figures mean little
// (see the warning it prints).

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/bench_support.hpp"

namespace {

using namespace kactor;
using clock_type = std::chrono::steady_clock;

constexpr int kPartitions = 8;
/// How long member A runs alone before B joins: the steady-state reference.
constexpr auto kSteady = std::chrono::seconds(1);
/// Bound on each wait (group join, settle) before a repetition fails.
constexpr auto kTimeout = std::chrono::seconds(60);

double ms(clock_type::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

/// One benchmarked configuration of the group's members.
struct variant {
  const char* name;
  assignor_kind assignor;
  /// kactor's periodic commit interval. librdkafka 2.0.2 treats an
  /// ILLEGAL_GENERATION answer to a commit sent during a rebalance as the loss
  /// of the whole assignment (librdkafka issue #4059, fixed upstream by PR #4908
  /// in 2025), and a cooperative rebalance is two rebalances in a row: the
  /// variant with periodic commits pushed past the measurement (offsets are
  /// still committed on revocation) shows what the protocol does without that.
  std::chrono::milliseconds commit_interval;
  /// The consumers' `statistics.interval.ms`; empty: kactor's default (100).
  /// librdkafka 2.0.2's main thread wakes on its timers, so a short interval
  /// makes it notice the rebalance's next step sooner, at a CPU cost
  /// (`steady_cpu_ms` shows it).
  std::string statistics_interval;
  /// Every per-partition sample of every repetition, for the summary.
  std::vector<double> moved_first_ms;
  std::vector<double> kept_gap_ms;
};

/// A group member: a runtime whose one agent logs each record it handles.
std::unique_ptr<runtime> make_member(const bench::cluster& cl, const std::string& topic,
                                     const std::string& group, const variant& v,
                                     test::handled_log& log) {
  runtime_config cfg = bench::config();
  cfg.brokers = cl.brokers();
  cfg.commit_interval = v.commit_interval;
  cfg.consumer["session.timeout.ms"] = "6000";
  cfg.consumer["heartbeat.interval.ms"] = "500";
  if (!v.statistics_interval.empty())
    cfg.consumer["statistics.interval.ms"] = v.statistics_interval;
  auto rt = std::make_unique<runtime>(cfg);
  rt->agent("member")
      .consume(topic)
      .group(group)
      .assignor(v.assignor)
      .on([&log](const event& e, context&) { log.add(e.partition().value()); });
  return rt;
}

/// Partition -> its stats, for the partitions `rt` holds now.
std::map<int, partition_stats> held(const runtime& rt) {
  std::map<int, partition_stats> out;
  const auto stats = rt.stats();
  for (const auto& p : stats.agents.at(0).partitions)
    if (p.assigned) out.emplace(p.tp.partition.value(), p);
  return out;
}

void bm_rebalance(benchmark::State& state, const bench::cluster& cl, variant& v,
                  std::int64_t rate) {
  for (auto _ : state) {
    const auto topic = test::unique_name("bench-rebalance"), group = topic + "-group";
    cl.create_topic(topic, kPartitions);
    test::handled_log log_a(kPartitions), log_b(kPartitions);
    test::steady_feeder feed(cl.brokers(), topic, kPartitions, rate, &bench::payload);

    auto a = make_member(cl, topic, group, v, log_a);
    a->start();
    const bool warm = bench::poll_until(
        [&] {
          if (held(*a).size() != kPartitions) return false;
          for (int p = 0; p < kPartitions; ++p)
            if (log_a.times(p).empty()) return false;
          return true;
        },
        kTimeout);
    if (!warm) {
      state.SkipWithError("member A never processed all 8 partitions");
      break;
    }
    // The steady second: A alone with the feeder; its process CPU is the
    // cost of the variant's settings at this rate.
    const auto steady_from = bench::instant::now();
    std::this_thread::sleep_for(kSteady);
    const auto steady_cpu_ms = (bench::instant::now().cpu_s - steady_from.cpu_s) * 1e3;

    auto b = make_member(cl, topic, group, v, log_b);
    const auto a_before = held(*a);
    const auto join = clock_type::now();
    b->start();
    std::map<int, partition_stats> kept, moved;
    const bool settled = bench::poll_until(
        [&] {
          kept = held(*a);
          moved = held(*b);
          return test::two_members_settled(kept, moved, log_b, kPartitions);
        },
        kTimeout);
    if (!settled) {
      state.SkipWithError("the group did not settle with both members processing");
      break;
    }
    std::vector<double> moved_first;
    auto settle = join;
    for (const auto& [p, s] : moved) {
      const auto first = log_b.times(p).front();
      settle = std::max(settle, first);
      moved_first.push_back(ms(first - join));
    }
    // A gap still open at settle is measured to its end: wait for one more
    // record on every kept partition.
    bench::poll_until(
        [&] {
          for (const auto& [p, s] : kept)
            if (log_a.times(p).back() <= settle) return false;
          return true;
        },
        std::chrono::seconds(10));

    std::vector<double> kept_gap;
    double revoked = 0;
    for (const auto& [p, s] : kept) {
      const auto t = log_a.times(p);
      double gap = 0;
      for (std::size_t i = 1; i < t.size(); ++i)
        if (t[i] > join && t[i - 1] < settle) gap = std::max(gap, ms(t[i] - t[i - 1]));
      kept_gap.push_back(gap);
      revoked += static_cast<double>(s.revocations - a_before.at(p).revocations);
    }
    double steady_gap = 0;
    for (int p = 0; p < kPartitions; ++p) {
      const auto t = log_a.times(p);
      for (std::size_t i = 1; i < t.size(); ++i)
        if (t[i - 1] >= join - kSteady && t[i] <= join)
          steady_gap = std::max(steady_gap, ms(t[i] - t[i - 1]));
    }

    state.SetIterationTime(ms(settle - join) / 1000.0);
    state.counters["moved_partitions"] = static_cast<double>(moved.size());
    state.counters["moved_first_p50_ms"] = bench::quantile(moved_first, 0.5);
    state.counters["moved_first_max_ms"] = bench::quantile(moved_first, 1.0);
    state.counters["kept_gap_max_ms"] = bench::quantile(kept_gap, 1.0);
    state.counters["kept_revoked"] = revoked;
    state.counters["steady_gap_max_ms"] = steady_gap;
    state.counters["steady_cpu_ms"] = steady_cpu_ms;
    state.counters["revoke_callback_ms"] =
        static_cast<double>(a->stats().agents.at(0).last_revoke.count()) / 1000.0;
    v.moved_first_ms.insert(v.moved_first_ms.end(), moved_first.begin(), moved_first.end());
    v.kept_gap_ms.insert(v.kept_gap_ms.end(), kept_gap.begin(), kept_gap.end());
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
  bench::cluster cl;
  const auto rate = bench::take_int_flag(argc, argv, "--rate", "KACTOR_BENCH_RATE", 2000);
  if (!bench::initialize(argc, argv, 5)) return 1;

  benchmark::AddCustomContext("broker", cl.describe());
  benchmark::AddCustomContext("feed_records_per_s", std::to_string(rate));
  std::printf("rebalance_bench: %s, %d partitions fed at %lld records/s\n", cl.describe().c_str(),
              kPartitions, static_cast<long long>(rate));
  if (cl.embedded())
    std::printf(
        "WARNING: the embedded mock cluster treats the first member as lost when a second one "
        "joins (after session.timeout.ms - 1 s), so these figures do not describe a real "
        "broker. Set KACTOR_BROKERS.\n");
  std::fflush(stdout);

  const auto default_commit = runtime_config{}.commit_interval;
  std::vector<variant> variants = {
      {"rebalance/cooperative_sticky",
       assignor_kind::cooperative_sticky,
       default_commit,
       "",
       {},
       {}},
      {"rebalance/cooperative_sticky_no_periodic_commit",
       assignor_kind::cooperative_sticky,
       std::chrono::hours(1),
       "",
       {},
       {}},
      {"rebalance/cooperative_sticky_statistics_10ms",
       assignor_kind::cooperative_sticky,
       default_commit,
       "10",
       {},
       {}},
      {"rebalance/range_eager", assignor_kind::range, default_commit, "", {}, {}},
  };
  for (auto& v : variants) {
    bench::with_tail_statistics(
        benchmark::RegisterBenchmark(
            v.name, [&cl, &v, rate](benchmark::State& s) { bm_rebalance(s, cl, v, rate); }))
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
