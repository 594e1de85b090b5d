// Consume-transform-produce throughput: kactor against a hand-written
// librdkafka loop doing the same work in the same process.
//
// Both copy N pre-produced 100-byte records from an 8-partition input topic to
// an 8-partition output topic, from the earliest offset with a fresh consumer
// group per repetition, emitting through an idempotent producer.
//
// What is timed, identically for both: from the first input record in hand
// (kactor: the first handler call; raw: the first record rd_kafka_consumer_poll
// returns) until the last output record is acknowledged by the broker (kactor:
// every partition's stored offset, which advances only after the emits of the
// records before it are acknowledged, reaches the input end offset; raw:
// rd_kafka_flush returns after the N-th record was consumed). Client creation
// and the group join before the first record, and shutdown after the last
// acknowledgement, are excluded: they are fixed costs, not throughput.
// Besides records/s, each reports the process CPU time (all threads) spent per
// record over the same window: kactor spreads the work over more threads.
//
//   KACTOR_BROKERS=127.0.0.1:9092 throughput_bench [--records=200000]
//
// Without KACTOR_BROKERS the embedded mock cluster is used (default 50000
// records). KACTOR_BENCH_RECORDS also sets the record count. Defaults: 10
// repetitions, aggregates only; --benchmark_* flags override them.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

#include "benchmarks/bench_support.hpp"

namespace {

using namespace kactor;
using clock_type = std::chrono::steady_clock;

constexpr int kPartitions = 8;
/// Longest a repetition may take before it is reported as failed.
constexpr auto kTimeout = std::chrono::seconds(120);

using bench::input_topic;
using bench::instant;
using bench::rates;

}  // namespace

int main(int argc, char** argv) {
  bench::cluster cl;
  const auto records = bench::take_int_flag(argc, argv, "--records", "KACTOR_BENCH_RECORDS",
                                            cl.embedded() ? 50000 : 200000);
  if (!bench::initialize(argc, argv, 10)) return 1;

  const auto in = bench::produce_input(cl, records, kPartitions);
  const auto kactor_out = in.name + ".kactor", raw_out = in.name + ".raw";
  for (const auto& t : {kactor_out, raw_out}) cl.create_topic(t, kPartitions);

  benchmark::AddCustomContext("broker", cl.describe());
  benchmark::AddCustomContext("records", std::to_string(records));
  std::printf("throughput_bench: %s, %lld records of 100 bytes in %d partitions\n",
              cl.describe().c_str(), static_cast<long long>(records), kPartitions);
  if (cl.embedded())
    std::printf(
        "note: the mock cluster runs in this process: it shares its cores and its CPU time "
        "counts in cpu_us_per_record\n");
  std::fflush(stdout);

  rates kactor, kactor_failing, raw;
  auto add = [](const char* name, auto fn) {
    benchmark::RegisterBenchmark(name, fn)->Iterations(1)->UseManualTime()->Unit(
        benchmark::kMillisecond);
  };
  add("copy/kactor",
      [&](benchmark::State& s) { bench::copy_with_kactor(s, cl, in, kactor_out, kactor); });
  add("copy/kactor_1pct_retriable", [&](benchmark::State& s) {
    bench::copy_with_kactor(s, cl, in, kactor_out, kactor_failing, 100);
  });
  add("copy/raw_librdkafka",
      [&](benchmark::State& s) { bench::copy_with_librdkafka(s, cl, in, raw_out, raw); });
  benchmark::RunSpecifiedBenchmarks();

  auto median = [](const std::vector<double>& v) { return bench::quantile(v, 0.5); };
  const double k = median(kactor.records_per_s), f = median(kactor_failing.records_per_s),
               r = median(raw.records_per_s);
  std::printf(
      "summary (medians of this run): kactor %.0f records/s, %.2f CPU us/record (%zu reps); "
      "kactor with 1%% retriable failures %.0f records/s, %.2f CPU us/record; "
      "raw librdkafka %.0f records/s, %.2f CPU us/record (%zu reps); kactor/raw = %.2f, "
      "failing/raw = %.2f\n",
      k, median(kactor.cpu_us_per_record), kactor.records_per_s.size(), f,
      median(kactor_failing.cpu_us_per_record), r, median(raw.cpu_us_per_record),
      raw.records_per_s.size(), k / r, f / r);
  benchmark::Shutdown();
  return 0;
}
