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

/// (b) raw librdkafka: one consumer polled with rd_kafka_consumer_poll and an
/// idempotent producer copying each record (RD_KAFKA_MSG_F_COPY), both served
/// on this thread. The consumer has librdkafka's defaults and
/// auto.offset.reset=earliest: kactor's per-partition fetch bounds
/// (queued.min.messages=10000, ...) would apply to the one consumer queue all
/// partitions forward to here, and made this loop ~15x slower.
///
/// `empty_polls` counts polls after the first record that returned nothing
/// within their 100 ms, i.e. time the loop waited for the fetcher. On
/// librdkafka 2.0.2 runs of this loop were seen to be bimodal: none, or 6-8 in
/// a row (a ~0.7 s stall); the median over enough repetitions tells which
/// mode dominates.
void bm_raw(benchmark::State& state, const bench::cluster& cl, const input_topic& in,
            const std::string& out, rates& result) {
  using namespace kactor::detail;
  for (auto _ : state) {
    auto consumer =
        make_client(RD_KAFKA_CONSUMER, make_conf({{"", "bootstrap.servers", cl.brokers()},
                                                  {"", "client.id", "kactor-bench-raw"},
                                                  {"", "group.id", test::unique_name("bench-raw")},
                                                  {"", "auto.offset.reset", "earliest"}}));
    rd_kafka_poll_set_consumer(consumer.get());
    auto topics = make_tpl(1);
    rd_kafka_topic_partition_list_add(topics.get(), in.name.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(consumer.get(), topics.get()))
      throw kafka_exception(make_error(err, "subscribe to " + in.name));

    // Delivery reports are served by rd_kafka_poll/flush, on this thread.
    std::int64_t failures = 0;
    auto producer = bench::counting_producer({{"", "bootstrap.servers", cl.brokers()},
                                              {"", "client.id", "kactor-bench-raw"},
                                              {"", "enable.idempotence", "true"}},
                                             &failures);
    topic_ptr out_topic{rd_kafka_topic_new(producer.get(), out.c_str(), nullptr)};

    std::int64_t consumed = 0, empty_polls = 0;
    instant first;
    const auto deadline = clock_type::now() + kTimeout;
    bool refused = false;
    while (consumed < in.records && !refused && clock_type::now() < deadline) {
      message_ptr m{rd_kafka_consumer_poll(consumer.get(), 100)};
      rd_kafka_poll(producer.get(), 0);
      if (!m || m->err) {
        empty_polls += consumed > 0 ? 1 : 0;
        continue;
      }
      if (consumed++ == 0) first = instant::now();
      rd_kafka_resp_err_t err;
      while ((err = rd_kafka_producev(producer.get(), RD_KAFKA_V_RKT(out_topic.get()),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_KEY(m->key, m->key_len),
                                      RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_END)) ==
             RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(producer.get(), 1);
      refused = err != RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    const bool flushed =
        !refused && rd_kafka_flush(producer.get(), 60000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    const auto last = instant::now();
    rd_kafka_consumer_close(consumer.get());
    if (consumed < in.records || !flushed || failures > 0) {
      state.SkipWithError("raw loop did not copy every record in time");
      break;
    }
    result.add(state, in.records, first, last);
    state.counters["empty_polls"] = static_cast<double>(empty_polls);
  }
}

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
  add("copy/raw_librdkafka", [&](benchmark::State& s) { bm_raw(s, cl, in, raw_out, raw); });
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
