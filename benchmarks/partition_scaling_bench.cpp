// How kactor's cost grows with the partition count (issue 15): the same
// records copied through 8, 64, 256 and 1024 partitions, kactor against the
// hand-written librdkafka loop (bench_support's copy_with_librdkafka) on the
// same topics in the same process run.
//
// Per partition count: an input topic with that many partitions holding
// `--records` 100-byte records over 1000 keys, and output topics with as many
// partitions, warmed before any case, all with 256 KiB index files
// (bench_support's warm_output_topic: on this machine the broker's first
// index entry of a fresh partition cost it 2-15 ms with 10 MiB ones).
// Cases per count: kactor at_least_once, kactor exactly_once
// (100 ms transactions), the raw loop. Timed as in throughput_bench: from the
// first input record in hand until the last output is acknowledged (kactor:
// stored or, exactly_once, committed offsets reach the input's ends). Counters:
//
//   records_per_s, cpu_us_per_record   as throughput_bench (process CPU).
//   first_record_ms   start() (raw: consumer creation) -> first record in hand.
//   broker_cpu_us_per_record, broker_major_faults   the broker's, from
//                     /proc (KACTOR_BROKER_PID); its faults should be 0.
//   peak_rss_mb       this process's peak RSS during the repetition, after
//                     freed heap was returned and the peak reset
//                     (/proc/self/clear_refs), and rss_growth_mb, that peak
//                     minus the RSS before: what the run itself needed.
//
//   KACTOR_BROKERS=127.0.0.1:9092 partition_scaling_bench [--records=2000000]
//     [--min-partitions=8] [--max-partitions=1024]
//
// With KACTOR_KSTREAMS=scripts/kstreams.sh, Kafka Streams 4.1.1 (two stream
// threads, at_least_once) copies the same input too, as a separate JVM
// timed from outside: from the first record in its output topic until all
// are there (end offsets sampled every 10 ms); its CPU per record and
// peak_rss_mb are the JVM's, first_record_ms and broker_cpu_us_per_record
// count from the JVM's start.
//
// Its topics are deleted at the end: 1024-partition topics hold thousands of
// the broker's open files.
//
// Defaults: 5 repetitions, aggregates only, cases interleaved at random;
// --benchmark_* flags override them. Five, not three: about one repetition
// in five at 256 partitions runs in this machine's slow mode
// (benchmarks/RESULTS.md, 2026-12-03), and two of three made the median.
// A real broker is required (the embedded mock cluster's figures would be
// the mock's). The table of medians at the end goes to stderr, so that
// stdout holds Google Benchmark's report alone: --benchmark_format=json
// parses; csv aborts in Google Benchmark 1.7's reporter, which wants the
// same counters in every case (the raw loop's empty_polls and exactly_once's
// barrier_ms are in one case each).

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
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

/// Every partition's end offset of `topic`, summed, through `rk`: one
/// ListOffsets request (timestamp -1 asks for the end).
std::int64_t output_end(rd_kafka_t* rk, const std::string& topic, int partitions) {
  auto tpl = detail::make_tpl(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(tpl.get(), topic.c_str(), p)->offset = -1;
  if (rd_kafka_offsets_for_times(rk, tpl.get(), 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  std::int64_t sum = 0;
  for (int i = 0; i < tpl->cnt; ++i) {
    if (tpl->elems[i].err || tpl->elems[i].offset < 0) return -1;
    sum += tpl->elems[i].offset;
  }
  return sum;
}

/// Kafka Streams copying `in` to `out` (`script` is scripts/kstreams.sh):
/// timed from outside, from the first record it adds to `out` until all of
/// them are there, sampled every 10 ms; CPU per record and peak RSS are the JVM's.
void copy_with_kafka_streams(benchmark::State& state, const bench::cluster& cl,
                             const bench::input_topic& in, const std::string& out,
                             const std::string& script, bench::rates& result) {
  for (auto _ : state) {
    auto rk = detail::make_client(RD_KAFKA_CONSUMER,
                                  detail::make_conf({{"", "bootstrap.servers", cl.brokers()},
                                                     {"", "group.id", "kactor-bench-ends"}}));
    // Earlier repetitions copied into the same topic: count from its end.
    // Just created, the topic may not answer at once.
    const int partitions = static_cast<int>(in.ends.size());
    std::int64_t base = -1;
    if (!bench::poll_until([&] { return (base = output_end(rk.get(), out, partitions)) >= 0; },
                           std::chrono::seconds(30))) {
      state.SkipWithError("no end offsets for the Kafka Streams output topic");
      break;
    }
    bench::settle_broker();
    const bench::broker_cpu broker;
    const auto start = std::chrono::steady_clock::now();
    test::child_process jvm({script, "run", cl.brokers(), in.name, out, test::unique_name("ks")},
                            test::binary_dir() + "/kstreams-" + out + ".log");
    bench::instant first{}, last{};
    bool started = false, done = false;
    const auto deadline = start + std::chrono::seconds(180);
    while (!done && std::chrono::steady_clock::now() < deadline && jvm.running()) {
      const auto n = output_end(rk.get(), out, partitions);
      const bench::instant now{std::chrono::steady_clock::now(), jvm.cpu_seconds()};
      if (!started && n > base) {
        started = true;
        first = now;
        state.counters["first_record_ms"] =
            std::chrono::duration<double, std::milli>(now.wall - start).count();
      }
      if (n >= base + in.records) {
        done = true;
        last = now;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    state.counters["peak_rss_mb"] = bench::rss_mb("VmHWM", jvm.pid());
    broker.report(state, in.records);
    jvm.signal(SIGTERM);
    if (jvm.wait(std::chrono::seconds(30)) < 0) jvm.signal(SIGKILL);
    if (!done) {
      state.SkipWithError(jvm.status() >= 0 ? "the Kafka Streams JVM exited early (see its log)"
                                            : "Kafka Streams did not copy every record in 180 s");
      break;
    }
    result.add(state, in.records, first, last);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto records =
      bench::take_int_flag(argc, argv, "--records", "KACTOR_BENCH_RECORDS", 2000000);
  const auto min_partitions =
      bench::take_int_flag(argc, argv, "--min-partitions", "KACTOR_BENCH_MIN_PARTITIONS", 8);
  const auto max_partitions =
      bench::take_int_flag(argc, argv, "--max-partitions", "KACTOR_BENCH_MAX_PARTITIONS", 1024);
  if (!bench::initialize(argc, argv, 5)) return 1;
  bench::cluster cl;
  if (cl.embedded()) {
    std::fprintf(stderr, "partition_scaling_bench: set KACTOR_BROKERS to a real broker\n");
    return 1;
  }
  benchmark::AddCustomContext("broker", cl.describe());
  benchmark::AddCustomContext("records", std::to_string(records));
  const char* ks_env = std::getenv("KACTOR_KSTREAMS");
  const std::string kstreams = ks_env ? ks_env : "";

  struct count {
    int partitions;
    bench::input_topic in;
    bench::rates kactor, kactor_eos, raw, kstreams;
  };
  std::vector<count> counts;
  for (int p : {8, 64, 256, 1024})
    if (p >= min_partitions && p <= max_partitions) counts.push_back({p, {}, {}, {}, {}, {}});
  for (auto& c : counts) {
    std::fprintf(stderr, "producing %lld records into %d partitions...\n",
                 static_cast<long long>(records), c.partitions);
    c.in = bench::produce_input(cl, records, c.partitions, bench::small_index_configs());
    for (const char* suffix : {".kactor", ".eos", ".raw", ".ks"}) {
      cl.create_topic(c.in.name + suffix, c.partitions, bench::small_index_configs());
      bench::warm_output_topic(cl.brokers(), c.in.name + suffix, c.partitions);
    }
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
    if (!kstreams.empty())
      add(name("kafka_streams"), [&cl, &c, &kstreams](benchmark::State& s) {
        copy_with_kafka_streams(s, cl, c.in, c.in.name + ".ks", kstreams, c.kstreams);
      });
  }
  benchmark::RunSpecifiedBenchmarks();
  // Thousands of partitions hold thousands of the broker's open files.
  for (const auto& c : counts)
    for (const char* suffix : {"", ".kactor", ".eos", ".raw", ".ks"})
      test::delete_topic(cl.brokers(), c.in.name + suffix);

  auto median = [](const std::vector<double>& v) { return bench::quantile(v, 0.5); };
  std::fprintf(stderr,
               "\npartitions  kactor rec/s  cpu us/rec  eos rec/s  raw rec/s  raw cpu us/rec  "
               "kactor/raw%s\n",
               kstreams.empty() ? "" : "  ks rec/s  ks cpu us/rec  kactor/ks");
  for (const auto& c : counts) {
    std::fprintf(stderr, "%10d  %12.0f  %10.2f  %9.0f  %9.0f  %14.2f  %10.2f", c.partitions,
                 median(c.kactor.records_per_s), median(c.kactor.cpu_us_per_record),
                 median(c.kactor_eos.records_per_s), median(c.raw.records_per_s),
                 median(c.raw.cpu_us_per_record),
                 median(c.kactor.records_per_s) / median(c.raw.records_per_s));
    if (!c.kstreams.records_per_s.empty())
      std::fprintf(stderr, "  %8.0f  %13.2f  %9.2f", median(c.kstreams.records_per_s),
                   median(c.kstreams.cpu_us_per_record),
                   median(c.kactor.records_per_s) / median(c.kstreams.records_per_s));
    std::fprintf(stderr, "\n");
  }
  benchmark::Shutdown();
  return 0;
}
