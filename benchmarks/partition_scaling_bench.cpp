// How kactor's cost grows with the partition count (issue 15): the same
// records copied through 8, 64, 256 and 1024 partitions, kactor against the
// hand-written librdkafka loop (bench_support's copy_with_librdkafka) on the
// same topics in the same process run.
//
// Per partition count: an input topic with that many partitions holding
// `--records` 100-byte records over 1000 keys, and output topics with as many
// partitions. Cases per count: kactor at_least_once, kactor exactly_once
// (100 ms transactions), the raw loop. Timed as in throughput_bench: from the
// first input record in hand until the last output is acknowledged (kactor:
// stored or, exactly_once, committed offsets reach the input's ends). Counters:
//
//   records_per_s, cpu_us_per_record   as throughput_bench (process CPU).
//   first_record_ms   start() (raw: consumer creation) -> first record in hand.
//   peak_rss_mb       this process's peak RSS during the repetition, after
//                     freed heap was returned and the peak reset
//                     (/proc/self/clear_refs), and rss_growth_mb, that peak
//                     minus the RSS before: what the run itself needed.
//
//   KACTOR_BROKERS=127.0.0.1:9092 partition_scaling_bench [--records=1000000]
//     [--min-partitions=8] [--max-partitions=1024]
//
// Its topics are deleted at the end: 1024-partition topics hold thousands of
// the broker's open files.
//
// Defaults: 3 repetitions, aggregates only, cases interleaved at random;
// --benchmark_* flags override them. A real broker is required (the embedded
// mock cluster's figures would be the mock's).

#include <cstdio>
#include <string>
#include <vector>

#include "benchmarks/bench_support.hpp"

namespace {

using namespace kactor;

/// Runs `copy` with the peak RSS reset before it, and reports it.
template <class Copy>
void with_memory(benchmark::State& state, Copy copy) {
  bench::reset_peak_rss();
  const double before = bench::rss_mb("VmRSS");
  copy();
  const double peak = bench::rss_mb("VmHWM");
  state.counters["peak_rss_mb"] = peak;
  state.counters["rss_growth_mb"] = peak - before;
}

}  // namespace

int main(int argc, char** argv) {
  const auto records =
      bench::take_int_flag(argc, argv, "--records", "KACTOR_BENCH_RECORDS", 1000000);
  const auto min_partitions =
      bench::take_int_flag(argc, argv, "--min-partitions", "KACTOR_BENCH_MIN_PARTITIONS", 8);
  const auto max_partitions =
      bench::take_int_flag(argc, argv, "--max-partitions", "KACTOR_BENCH_MAX_PARTITIONS", 1024);
  if (!bench::initialize(argc, argv, 3)) return 1;
  bench::cluster cl;
  if (cl.embedded()) {
    std::fprintf(stderr, "partition_scaling_bench: set KACTOR_BROKERS to a real broker\n");
    return 1;
  }
  benchmark::AddCustomContext("broker", cl.describe());
  benchmark::AddCustomContext("records", std::to_string(records));

  struct count {
    int partitions;
    bench::input_topic in;
    bench::rates kactor, kactor_eos, raw;
  };
  std::vector<count> counts;
  for (int p : {8, 64, 256, 1024})
    if (p >= min_partitions && p <= max_partitions) counts.push_back({p, {}, {}, {}, {}});
  for (auto& c : counts) {
    std::fprintf(stderr, "producing %lld records into %d partitions...\n",
                 static_cast<long long>(records), c.partitions);
    c.in = bench::produce_input(cl, records, c.partitions);
    for (const char* suffix : {".kactor", ".eos", ".raw"})
      cl.create_topic(c.in.name + suffix, c.partitions);
  }

  for (auto& c : counts) {
    const auto name = [&](const char* what) {
      return "scaling/" + std::string(what) + "/partitions:" + std::to_string(c.partitions);
    };
    auto add = [](const std::string& n, std::function<void(benchmark::State&)> f) {
      bench::with_tail_statistics(benchmark::RegisterBenchmark(n.c_str(), f))
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    };
    add(name("kactor_at_least_once"), [&cl, &c](benchmark::State& s) {
      with_memory(s,
                  [&] { bench::copy_with_kactor(s, cl, c.in, c.in.name + ".kactor", c.kactor); });
    });
    add(name("kactor_exactly_once"), [&cl, &c](benchmark::State& s) {
      with_memory(s, [&] {
        bench::copy_with_kactor(s, cl, c.in, c.in.name + ".eos", c.kactor_eos, 0,
                                std::chrono::milliseconds(100));
      });
    });
    add(name("raw_librdkafka"), [&cl, &c](benchmark::State& s) {
      with_memory(s, [&] { bench::copy_with_librdkafka(s, cl, c.in, c.in.name + ".raw", c.raw); });
    });
  }
  benchmark::RunSpecifiedBenchmarks();
  // Thousands of partitions hold thousands of the broker's open files.
  for (const auto& c : counts)
    for (const char* suffix : {"", ".kactor", ".eos", ".raw"})
      test::delete_topic(cl.brokers(), c.in.name + suffix);

  auto median = [](const std::vector<double>& v) { return bench::quantile(v, 0.5); };
  std::printf(
      "\npartitions  kactor rec/s  cpu us/rec  eos rec/s  raw rec/s  raw cpu us/rec  "
      "kactor/raw\n");
  for (const auto& c : counts)
    std::printf("%10d  %12.0f  %10.2f  %9.0f  %9.0f  %14.2f  %10.2f\n", c.partitions,
                median(c.kactor.records_per_s), median(c.kactor.cpu_us_per_record),
                median(c.kactor_eos.records_per_s), median(c.raw.records_per_s),
                median(c.raw.cpu_us_per_record),
                median(c.kactor.records_per_s) / median(c.raw.records_per_s));
  benchmark::Shutdown();
  return 0;
}
