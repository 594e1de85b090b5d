// exactly_once against at_least_once: the same copying agent, the same run.
//
// throughput/*: copy N pre-produced 100-byte records from an 8-partition
// topic, timed from the first handler call until every partition's stored
// offset (at_least_once: outputs acknowledged) or committed offset
// (exactly_once: the transactions holding the outputs committed) reaches the
// input's end. The summary gives each mode's median records/s and its ratio to
// at_least_once's median of the same run.
//
// latency/*: a steady load (--rate records/s for --seconds) goes through the
// agent; a downstream consumer reading the output at read_committed measures,
// per record, the wall time from the input's produce call to the output
// record in its hands. p50/p99/max over every record produced after a first
// second of warm-up.
//
//   scripts/kafka.sh start /tmp/b
//   KACTOR_BROKERS=$(cat /tmp/b/bootstrap.txt) build/benchmarks/eos_bench [--records=500000]
//   [--rate=5000] [--seconds=10]
//     [--long_interval_ms=1000]
//
// Needs a real broker: the embedded cluster refuses exactly_once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/bench_support.hpp"

namespace {

using namespace kactor;

constexpr int kPartitions = 8;

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Latencies in ms, one per output record; what one latency run reports.
struct latencies {
  std::vector<double> ms;
};

/// Reads `topic` from the beginning at read_committed on its own thread and
/// records, per record, now minus the produce time the payload starts with.
class downstream_reader {
 public:
  downstream_reader(const std::string& brokers, const std::string& topic, int partitions)
      : rk_(detail::make_client(RD_KAFKA_CONSUMER,
                                detail::make_conf({{"", "bootstrap.servers", brokers},
                                                   {"", "group.id", test::unique_name("eos-ds")},
                                                   {"", "isolation.level", "read_committed"},
                                                   {"", "fetch.wait.max.ms", "5"},
                                                   {"", "enable.auto.commit", "false"}}))) {
    auto tpl = detail::make_tpl(partitions);
    for (int p = 0; p < partitions; ++p)
      rd_kafka_topic_partition_list_add(tpl.get(), topic.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk_.get(), tpl.get());
    thread_ = std::thread([this] {
      while (!stop_.load(std::memory_order_acquire)) {
        detail::message_ptr m{rd_kafka_consumer_poll(rk_.get(), 50)};
        if (!m || m->err || !m->payload) continue;
        const auto now = wall_us();
        const std::string value(static_cast<const char*>(m->payload), m->len);
        const auto stamp = std::stoll(value);
        if (stamp >= measure_from_us_.load(std::memory_order_acquire))
          seen_.push_back(static_cast<double>(now - stamp) / 1000.0);
        count_.fetch_add(1, std::memory_order_release);
      }
    });
  }
  ~downstream_reader() { stop(); }

  std::size_t count() const { return count_.load(std::memory_order_acquire); }

  /// Records produced before `us` (wall clock) count as read but not as latencies.
  void measure_from(std::int64_t us) { measure_from_us_.store(us, std::memory_order_release); }

  /// Stops reading; the latencies seen so far.
  std::vector<double> stop() {
    if (thread_.joinable()) {
      stop_.store(true, std::memory_order_release);
      thread_.join();
      rd_kafka_consumer_close(rk_.get());
    }
    return seen_;
  }

 private:
  detail::handle_ptr rk_;
  std::vector<double> seen_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::int64_t> measure_from_us_{INT64_MAX};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// librdkafka alone, no consumer: one thread produces `records` 100-byte
/// records (keys and payloads as the input's) to `topic` with an idempotent
/// producer, or with a transactional one that commits every
/// `transaction_interval` (the thread waits for each commit, as one
/// transactional producer must). Timed from the first produce call until the
/// flush or the last commit returns. The ratio of the two is what
/// transactions cost on this broker before any consuming or any kactor code.
void bm_produce_only(benchmark::State& state, const bench::cluster& cl, const std::string& topic,
                     std::int64_t records, std::chrono::milliseconds transaction_interval,
                     bench::rates& result) {
  using namespace kactor::detail;
  const bool transactional = transaction_interval.count() > 0;
  for (auto _ : state) {
    property_list props{{"", "bootstrap.servers", cl.brokers()},
                        {"", "enable.idempotence", "true"}};
    if (transactional) {
      props.push_back({"", "transactional.id", test::unique_name("eos-bench-raw")});
      props.push_back({"", "transaction.timeout.ms", "10000"});
    }
    std::int64_t failures = 0;
    auto rk = bench::counting_producer(props, &failures);
    topic_ptr rkt{rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr)};
    std::string failed;  // the first call that failed
    auto check = [&](rd_kafka_error_t* raw, const char* what) {
      error_ptr err{raw};
      if (err && failed.empty()) failed = std::string(what) + ": " + rd_kafka_error_string(raw);
      return failed.empty();
    };
    if (transactional) {
      check(rd_kafka_init_transactions(rk.get(), 60000), "init_transactions");
      check(rd_kafka_begin_transaction(rk.get()), "begin_transaction");
    }
    const auto first = bench::instant::now();
    auto last_commit = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < records && failed.empty(); ++i) {
      const auto key = bench::key(i);
      auto value = bench::payload(i);
      rd_kafka_resp_err_t err;
      while ((err = rd_kafka_producev(
                  rk.get(), RD_KAFKA_V_RKT(rkt.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                  RD_KAFKA_V_KEY(key.data(), key.size()),
                  RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END)) ==
             RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk.get(), 1);
      if (err) failed = std::string("produce: ") + rd_kafka_err2str(err);
      rd_kafka_poll(rk.get(), 0);
      if (transactional && (i & 255) == 0 &&
          std::chrono::steady_clock::now() - last_commit >= transaction_interval) {
        check(rd_kafka_commit_transaction(rk.get(), 10000), "commit_transaction") &&
            check(rd_kafka_begin_transaction(rk.get()), "begin_transaction");
        last_commit = std::chrono::steady_clock::now();
      }
    }
    if (failed.empty()) {
      if (transactional)
        check(rd_kafka_commit_transaction(rk.get(), 10000), "commit_transaction");
      else if (rd_kafka_flush(rk.get(), 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        failed = "flush timed out";
    }
    const auto last = bench::instant::now();
    if (!failed.empty() || failures > 0) {
      state.SkipWithError(failed.empty() ? "delivery failed" : failed.c_str());
      break;
    }
    result.add(state, records, first, last);
  }
}

/// One steady-load run of the copying agent in `interval` mode (0: at_least_once).
void bm_latency(benchmark::State& state, const bench::cluster& cl, std::int64_t rate,
                std::int64_t seconds, std::chrono::milliseconds interval, latencies& result) {
  for (auto _ : state) {
    const auto in = test::unique_name("eos-lat-in"), out = in + ".out";
    cl.create_topic(in, kPartitions);
    cl.create_topic(out, kPartitions);
    runtime_config cfg = bench::config();
    cfg.brokers = cl.brokers();
    runtime rt(cfg);
    auto agent = rt.agent("copy");
    agent.consume(in).group(in + "-g");
    if (interval.count() > 0) agent.exactly_once(interval);
    agent.on([&](const event& e, context& ctx) { ctx.emit(out, e.key(), e.value()); });
    rt.start();
    const bool assigned = bench::poll_until(
        [&] {
          const auto s = rt.stats();
          std::size_t n = 0;
          for (const auto& p : s.agents.at(0).partitions) n += p.assigned ? 1 : 0;
          return n == kPartitions;
        },
        std::chrono::seconds(60));
    downstream_reader reader(cl.brokers(), out, kPartitions);
    // The load: every 5 ms the records due by then, stamped at their produce call.
    auto producer = detail::make_client(RD_KAFKA_PRODUCER,
                                        detail::make_conf({{"", "bootstrap.servers", cl.brokers()},
                                                           {"", "enable.idempotence", "true"},
                                                           {"", "linger.ms", "1"}}));
    // The first second warms up the clients and connections; it is not measured.
    const std::int64_t total = rate * (seconds + 1);
    const auto begin = std::chrono::steady_clock::now();
    std::int64_t sent = 0;
    bool measuring = false;
    while (assigned && sent < total) {
      const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin);
      if (!measuring && elapsed.count() >= 1.0) {
        reader.measure_from(wall_us());
        measuring = true;
      }
      const auto due = std::min(total, static_cast<std::int64_t>(elapsed.count() * rate));
      for (; sent < due; ++sent) {
        auto value = std::to_string(wall_us());
        value.resize(100, ' ');
        const auto key = bench::key(sent);
        while (rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(in.c_str()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_KEY(key.data(), key.size()),
                                 RD_KAFKA_V_VALUE(value.data(), value.size()),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
          rd_kafka_poll(producer.get(), 1);
      }
      rd_kafka_poll(producer.get(), 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    rd_kafka_flush(producer.get(), 30000);
    const bool complete =
        assigned &&
        bench::poll_until([&] { return reader.count() >= static_cast<std::size_t>(total); },
                          std::chrono::seconds(60));
    auto seen = reader.stop();
    rt.stop();
    if (!complete) {
      state.SkipWithError("the downstream reader did not see every record in time");
      break;
    }
    state.SetIterationTime(static_cast<double>(seconds));
    state.counters["p50_ms"] = bench::quantile(seen, 0.5);
    state.counters["p99_ms"] = bench::quantile(seen, 0.99);
    state.counters["max_ms"] = bench::quantile(seen, 1.0);
    result.ms.insert(result.ms.end(), seen.begin(), seen.end());
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::cluster cl;
  if (cl.embedded()) {
    std::fprintf(stderr,
                 "eos_bench needs a real broker: the embedded cluster refuses exactly_once. "
                 "Start one with scripts/kafka.sh start DIR and set KACTOR_BROKERS to "
                 "DIR/bootstrap.txt's address.\n");
    return 2;
  }
  const auto records =
      bench::take_int_flag(argc, argv, "--records", "KACTOR_BENCH_RECORDS", 500000);
  const auto rate = bench::take_int_flag(argc, argv, "--rate", "KACTOR_BENCH_RATE", 5000);
  const auto seconds = bench::take_int_flag(argc, argv, "--seconds", "KACTOR_BENCH_SECONDS", 10);
  const std::chrono::milliseconds long_interval{
      bench::take_int_flag(argc, argv, "--long_interval_ms", "KACTOR_BENCH_LONG_INTERVAL", 1000)};
  if (!bench::initialize(argc, argv, 5)) return 1;

  const auto in = bench::produce_input(cl, records, kPartitions);
  const auto out = in.name + ".out";
  cl.create_topic(out, kPartitions);
  std::printf(
      "eos_bench: %s, %lld records of 100 bytes in %d partitions; latency at %lld "
      "records/s for %lld s\n",
      cl.describe().c_str(), static_cast<long long>(records), kPartitions,
      static_cast<long long>(rate), static_cast<long long>(seconds));
  std::fflush(stdout);

  const std::chrono::milliseconds short_interval{100};
  bench::rates alos, eos_short, eos_long, raw_idempotent, raw_transactional;
  latencies lat_alos, lat_short, lat_long;
  auto throughput = [](const std::string& name, auto fn) {
    benchmark::RegisterBenchmark(name.c_str(), fn)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  const auto long_name = std::to_string(long_interval.count()) + "ms";
  throughput("throughput/at_least_once",
             [&](benchmark::State& s) { bench::copy_with_kactor(s, cl, in, out, alos); });
  throughput("throughput/exactly_once_100ms", [&](benchmark::State& s) {
    bench::copy_with_kactor(s, cl, in, out, eos_short, 0, short_interval);
  });
  throughput("throughput/exactly_once_" + long_name, [&](benchmark::State& s) {
    bench::copy_with_kactor(s, cl, in, out, eos_long, 0, long_interval);
  });
  const auto raw_out = in.name + ".raw";
  cl.create_topic(raw_out, kPartitions);
  throughput("throughput/librdkafka_produce_only_idempotent", [&](benchmark::State& s) {
    bm_produce_only(s, cl, raw_out, records, {}, raw_idempotent);
  });
  throughput("throughput/librdkafka_produce_only_transactional_100ms", [&](benchmark::State& s) {
    bm_produce_only(s, cl, raw_out, records, short_interval, raw_transactional);
  });
  auto latency = [&](const std::string& name, std::chrono::milliseconds interval,
                     latencies& result) {
    benchmark::RegisterBenchmark(
        name.c_str(),
        [&, interval](benchmark::State& s) { bm_latency(s, cl, rate, seconds, interval, result); })
        ->Iterations(1)
        ->Repetitions(1)
        ->UseManualTime()
        ->Unit(benchmark::kSecond);
  };
  latency("latency/at_least_once", {}, lat_alos);
  latency("latency/exactly_once_100ms", short_interval, lat_short);
  latency("latency/exactly_once_" + long_name, long_interval, lat_long);
  benchmark::RunSpecifiedBenchmarks();

  auto median = [](const std::vector<double>& v) { return bench::quantile(v, 0.5); };
  const double base = median(alos.records_per_s);
  std::printf(
      "summary (medians of this run): at_least_once %.0f records/s; exactly_once 100 ms %.0f "
      "(%.2f of at_least_once), %s %.0f (%.2f)\n",
      base, median(eos_short.records_per_s), median(eos_short.records_per_s) / base,
      long_name.c_str(), median(eos_long.records_per_s), median(eos_long.records_per_s) / base);
  std::printf(
      "end-to-end latency at read_committed, p50/p99 ms: at_least_once %.1f/%.1f; exactly_once "
      "100 ms %.1f/%.1f, %s %.1f/%.1f\n",
      bench::quantile(lat_alos.ms, 0.5), bench::quantile(lat_alos.ms, 0.99),
      bench::quantile(lat_short.ms, 0.5), bench::quantile(lat_short.ms, 0.99), long_name.c_str(),
      bench::quantile(lat_long.ms, 0.5), bench::quantile(lat_long.ms, 0.99));
  const double raw_base = median(raw_idempotent.records_per_s);
  std::printf(
      "librdkafka alone, producing only: idempotent %.0f records/s; transactional 100 ms %.0f "
      "(%.2f of idempotent)\n",
      raw_base, median(raw_transactional.records_per_s),
      median(raw_transactional.records_per_s) / raw_base);
  benchmark::Shutdown();
  return 0;
}
