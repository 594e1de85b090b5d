#pragma once
// Helpers shared by kactor's benchmarks: which cluster to run against, flags
// with environment fallbacks, end offsets, and order statistics.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <benchmark/benchmark.h>
#include <kactor/kactor.hpp>

#include "src/cli/rebalance_bench.hpp"
#include "src/kafka/handles.hpp"
#include "tests/test_support.hpp"

namespace kactor::bench {

/// librdkafka properties from environment variable `env`, "key=value,key=value".
inline void add_properties(std::map<std::string, std::string>& to, const char* env) {
  const char* e = std::getenv(env);
  const std::string s = e ? e : "";
  for (std::size_t pos = 0; pos < s.size();) {
    auto comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    const auto item = s.substr(pos, comma - pos);
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument(std::string(env) + ": '" + item + "' is not key=value");
    to[item.substr(0, eq)] = item.substr(eq + 1);
    pos = comma + 1;
  }
}

/// A runtime config for benchmarks: warnings and errors only, as per-rebalance
/// info lines would drown the tables; KACTOR_BENCH_LOG=<level> (info, debug,
/// ...) brings them back. KACTOR_BENCH_CONSUMER and KACTOR_BENCH_PRODUCER
/// ("key=value,...") add librdkafka properties, for experiments.
inline runtime_config config() {
  const char* level = std::getenv("KACTOR_BENCH_LOG");
  auto cfg = parse_config(std::string("log: {level: ") + (level && *level ? level : "warn") + "}");
  add_properties(cfg.consumer, "KACTOR_BENCH_CONSUMER");
  add_properties(cfg.producer, "KACTOR_BENCH_PRODUCER");
  return cfg;
}

/// The cluster a benchmark process talks to: the broker named by the
/// KACTOR_BROKERS environment variable, or else librdkafka's embedded mock
/// cluster, owned by a kactor runtime with no agents that lives as long as
/// this object (the mock runs inside this process and competes for its CPUs).
class cluster {
 public:
  cluster() {
    const char* env = std::getenv("KACTOR_BROKERS");
    if (env && *env) {
      brokers_ = env;
      return;
    }
    owner_ = std::make_unique<runtime>(config());
    brokers_ = owner_->bootstrap_servers();
  }

  const std::string& brokers() const { return brokers_; }
  bool embedded() const { return owner_ != nullptr; }

  /// "real broker 127.0.0.1:9092 (KACTOR_BROKERS)" or "embedded mock cluster ...".
  std::string describe() const {
    return embedded() ? "embedded mock cluster " + brokers_ + " (KACTOR_BROKERS unset)"
                      : "real broker " + brokers_ + " (KACTOR_BROKERS)";
  }

  /// Creates a topic: with the Admin API on a real broker, with topic
  /// `configs`; on the mock cluster through its owner, the only way to get
  /// more than one partition (the configs are not applied there).
  void create_topic(const std::string& name, int partitions,
                    const std::map<std::string, std::string>& configs = {}) const {
    if (owner_)
      owner_->create_topic(name, partitions);
    else
      test::create_topic(brokers_, name, partitions, configs);
  }

 private:
  std::unique_ptr<runtime> owner_;
  std::string brokers_;
};

/// Removes `--name=N` from argv if present and returns N; else the value of
/// environment variable `env` if set; else `fallback`. Call before
/// benchmark::Initialize, which rejects flags it does not know.
inline std::int64_t take_int_flag(int& argc, char** argv, const std::string& name, const char* env,
                                  std::int64_t fallback) {
  const std::string prefix = name + "=";
  std::int64_t value = fallback;
  if (const char* e = std::getenv(env); e && *e) value = std::stoll(e);
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0)
      value = std::stoll(argv[i] + prefix.size());
    else
      argv[out++] = argv[i];
  }
  argc = out;
  argv[argc] = nullptr;
  if (value <= 0) throw std::invalid_argument(name + " must be positive");
  return value;
}

/// Initialises Google Benchmark with `repetitions` repetitions, aggregates
/// only, and the repetitions of all cases in random interleaved order, unless
/// flags given on the command line (parsed after these defaults) say
/// otherwise. Interleaving spreads the broker's drift over a run (page cache,
/// growing logs, its JIT) over every case alike, so ratios within a run
/// compare like with like. False if a flag is not recognised (on stderr).
inline bool initialize(int argc, char** argv, int repetitions) {
  static const std::string reps = "--benchmark_repetitions=" + std::to_string(repetitions);
  static std::vector<char*> args;  // Google Benchmark keeps pointers into argv
  args = {argv[0], const_cast<char*>(reps.c_str()),
          const_cast<char*>("--benchmark_report_aggregates_only=true"),
          const_cast<char*>("--benchmark_enable_random_interleaving=true")};
  args.insert(args.end(), argv + 1, argv + argc);
  args.push_back(nullptr);
  int n = static_cast<int>(args.size()) - 1;
  benchmark::Initialize(&n, args.data());
  return !benchmark::ReportUnrecognizedArguments(n, args.data());
}

/// Polls `pred` every millisecond until it holds or `timeout` passes; returns
/// its last value. A condition is thus seen at most about 1 ms after it holds.
inline bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

using kactor::detail::quantile;

/// Adds p99 and max to the aggregates Google Benchmark computes over
/// repetitions (mean, median, stddev, cv), for times and counters alike.
inline benchmark::internal::Benchmark* with_tail_statistics(benchmark::internal::Benchmark* b) {
  return b->ComputeStatistics("p99", [](const std::vector<double>& v) { return quantile(v, 0.99); })
      ->ComputeStatistics("max", [](const std::vector<double>& v) { return quantile(v, 1.0); });
}

/// The key of input record `i`: 1000 keys, spread over every partition.
inline std::string key(std::int64_t i) {
  return "key-" + std::to_string(i % 1000);
}

/// A 100-byte record value that still says which record it is.
inline std::string payload(std::int64_t i) {
  std::string v = "record-" + std::to_string(i) + "-";
  v.resize(100, 'x');
  return v;
}

// Consume-transform-produce runs shared by throughput_bench and eos_bench.

/// The input both contenders copy, produced once per process.
struct input_topic {
  std::string name;
  std::int64_t records = 0;
  std::vector<std::int64_t> ends;  // per partition
};

/// Wall and process CPU clocks read together.
struct instant {
  std::chrono::steady_clock::time_point wall;
  double cpu_s = 0;

  static instant now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return {std::chrono::steady_clock::now(), static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9};
  }
};

/// The broker's process id from KACTOR_BROKER_PID, or 0 when it is not set.
inline int broker_pid() {
  const char* pid = std::getenv("KACTOR_BROKER_PID");
  return pid && *pid ? std::atoi(pid) : 0;
}

/// CPU seconds the broker's process has used, from /proc, when
/// KACTOR_BROKER_PID names it (scripts/kafka.sh writes DIR/broker.pid); NaN
/// otherwise. On a machine the broker shares, the broker's CPU per record
/// plus kactor's is what bounds records/s.
inline double broker_cpu_s() {
  const int pid = broker_pid();
  return pid > 0 ? detail::process_cpu_seconds(pid) : std::nan("");
}

/// Waits until the broker (KACTOR_BROKER_PID; nothing without) has used
/// under a tenth of a core over 250 ms, for at most 30 s. A case timed right
/// after the input was produced otherwise paid for the broker's work on it:
/// at 256 partitions whichever case ran first cost the broker 1.8-2.5x the
/// CPU per record of the one after it (benchmarks/RESULTS.md, 2026-12-02).
inline void settle_broker() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (double before = broker_cpu_s(); !std::isnan(before);) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the window measured
    const double now = broker_cpu_s();
    if (now - before < 0.025 || std::chrono::steady_clock::now() >= deadline) return;
    before = now;
  }
}

/// Major page faults the broker's process took so far (KACTOR_BROKER_PID), or -1.
inline long long broker_major_faults() {
  const int pid = broker_pid();
  return pid > 0 ? detail::process_major_faults(pid) : -1;
}

/// The broker's CPU and major page faults from construction until `report`,
/// which sets the `broker_cpu_us_per_record` and `broker_major_faults`
/// counters (nothing without KACTOR_BROKER_PID). Faults should be 0 in a
/// timed case (see `warm_output_topic`).
class broker_cpu {
 public:
  void report(benchmark::State& state, std::int64_t records) const {
    if (const double used = broker_cpu_s() - start_; !std::isnan(used))
      state.counters["broker_cpu_us_per_record"] = used * 1e6 / static_cast<double>(records);
    if (const auto faults = broker_major_faults(); faults >= 0 && faults_ >= 0)
      state.counters["broker_major_faults"] = static_cast<double>(faults - faults_);
  }

 private:
  double start_ = broker_cpu_s();
  long long faults_ = broker_major_faults();
};

using test::reset_peak_rss;
using test::rss_mb;

/// Records/s and CPU per record over [first, last]; what one repetition reports.
struct rates {
  std::vector<double> records_per_s;
  std::vector<double> cpu_us_per_record;

  void add(benchmark::State& state, std::int64_t records, const instant& first,
           const instant& last) {
    const double elapsed = std::chrono::duration<double>(last.wall - first.wall).count();
    state.SetIterationTime(elapsed);
    records_per_s.push_back(static_cast<double>(records) / elapsed);
    cpu_us_per_record.push_back((last.cpu_s - first.cpu_s) * 1e6 / static_cast<double>(records));
    state.counters["records_per_s"] = records_per_s.back();
    state.counters["cpu_us_per_record"] = cpu_us_per_record.back();
  }
};

/// A producer made from `props` whose failed deliveries are counted in
/// `*failures`. Its delivery reports are served by rd_kafka_poll and
/// rd_kafka_flush, on the caller's thread.
inline detail::handle_ptr counting_producer(const detail::property_list& props,
                                            std::int64_t* failures) {
  auto conf = detail::make_conf(props);
  rd_kafka_conf_set_opaque(conf.get(), failures);
  rd_kafka_conf_set_dr_msg_cb(conf.get(),
                              [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
                                if (m->err) ++*static_cast<std::int64_t*>(opaque);
                              });
  return detail::make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

/// Whether every non-empty input partition's stored offset (exactly_once:
/// committed offset) reached its end offset.
inline bool all_stored(const runtime& rt, const input_topic& in, bool transactional) {
  const auto stats = rt.stats();
  std::vector<std::int64_t> stored(in.ends.size(), -1);
  for (const auto& p : stats.agents.at(0).partitions)
    stored.at(static_cast<std::size_t>(p.tp.partition.value())) =
        transactional ? p.committed_offset : p.stored_offset;
  for (std::size_t p = 0; p < in.ends.size(); ++p)
    if (in.ends[p] > 0 && stored[p] < in.ends[p]) return false;
  return true;
}

/// Records handled per input partition, each count on a cache line of its
/// own: a partition's actor is its only writer, the bench thread sums them.
class handled_counts {
 public:
  explicit handled_counts(std::size_t partitions) : slots_(partitions) {}
  /// On the partition's actor.
  void add(partition_id p) {
    auto& n = slots_[static_cast<std::size_t>(p.value())].n;
    n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::int64_t sum() const {
    std::int64_t total = 0;
    for (const auto& s : slots_) total += s.n.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(64) slot {
    std::atomic<std::int64_t> n{0};
  };
  std::vector<slot> slots_;
};

/// kactor copying `in` to `out`: one agent whose `.on()` handler emits each record unchanged.
/// Completion is polled from this thread every millisecond (bench::poll_until):
/// first the handler's per-partition counts until every record was handled,
/// then `rt.stats()` until every offset is stored. (Polling `rt.stats()`
/// throughout made the bench thread's cost grow with the partition count:
/// it copies every partition's figures; benchmarks/RESULTS.md, 2026-12-02.)
///
/// Counters besides the rates: `retries`; `pauses` of partitions (each one
/// makes librdkafka 2.0.2 drop its prefetch and fetch it again); with
/// KACTOR_BROKER_PID set, `broker_cpu_us_per_record` from rt.start() until
/// done; in exactly_once `aborts` and, per transaction, `barrier_ms` and
/// `commit_ms`.
///
/// With `fail_every` > 0 the handler throws a retriable error on the first
/// attempt of every fail_every-th record of a partition (by offset); the retry
/// succeeds. The backoff is set to 1..10 ms so the figure shows what
/// supervision costs, not how long the policy sleeps.
///
/// With `transaction_interval` > 0 the agent runs exactly_once, committing a
/// transaction at that interval; completion is then the group's committed
/// offsets (the committed transactions') reaching the input's end.
inline void copy_with_kactor(benchmark::State& state, const bench::cluster& cl,
                             const input_topic& in, const std::string& out, rates& result,
                             int fail_every = 0,
                             std::chrono::milliseconds transaction_interval = {}) {
  for (auto _ : state) {
    runtime_config cfg = config();
    cfg.brokers = cl.brokers();
    runtime rt(cfg);
    std::atomic<bool> started{false};
    std::mutex first_mx;
    instant first;
    supervision_policy policy;
    policy.backoff_base = std::chrono::milliseconds(1);
    policy.backoff_max = std::chrono::milliseconds(10);
    // Each partition actor touches only its own slot: no locking needed.
    std::vector<std::int64_t> last_failed(in.ends.size(), -1);
    handled_counts handled(in.ends.size());
    const auto group = test::unique_name("bench-kactor");
    auto agent = rt.agent("copy");
    agent.consume(in.name).group(group).supervision(policy);
    if (transaction_interval.count() > 0) agent.exactly_once(transaction_interval);
    agent.on([&](const event& e, context& ctx) {
      if (!started.load(std::memory_order_acquire)) {
        std::lock_guard lock(first_mx);
        if (!started.load(std::memory_order_relaxed)) first = instant::now();
        started.store(true, std::memory_order_release);
      }
      const auto off = e.offset().value();
      auto& failed = last_failed[static_cast<std::size_t>(e.partition().value())];
      if (fail_every > 0 && off % fail_every == 0 && failed != off) {
        failed = off;
        throw std::runtime_error("transient");
      }
      ctx.emit(out, e.key(), e.value());
      handled.add(e.partition());
    });
    settle_broker();
    const broker_cpu broker;
    const auto start = instant::now();
    rt.start();
    const auto timeout = std::chrono::seconds(120);
    const bool done =
        bench::poll_until([&] { return handled.sum() >= in.records; }, timeout) &&
        bench::poll_until([&] { return all_stored(rt, in, transaction_interval.count() > 0); },
                          std::chrono::duration_cast<std::chrono::milliseconds>(
                              timeout - (std::chrono::steady_clock::now() - start.wall)));
    const auto last = instant::now();
    broker.report(state, in.records);
    const auto stats = rt.stats().agents.at(0);
    const auto failures = stats.delivery_failures;
    state.counters["aborts"] = static_cast<double>(stats.transactions_aborted);
    if (stats.transactions_committed > 0) {
      const auto n = static_cast<double>(stats.transactions_committed);
      state.counters["barrier_ms"] = static_cast<double>(stats.barrier_wait.count()) / 1000 / n;
      state.counters["commit_ms"] = static_cast<double>(stats.commit_time.count()) / 1000 / n;
    }
    std::uint64_t retries = 0, pauses = 0;
    for (const auto& p : stats.partitions) {
      retries += p.retries;
      pauses += p.pauses;
    }
    rt.stop();
    if (!done || failures > 0) {
      state.SkipWithError("kactor did not copy every record in time");
      break;
    }
    std::lock_guard lock(first_mx);
    result.add(state, in.records, first, last);
    state.counters["first_record_ms"] =
        std::chrono::duration<double, std::milli>(first.wall - start.wall).count();
    state.counters["retries"] = static_cast<double>(retries);
    state.counters["pauses"] = static_cast<double>(pauses);
  }
}

/// The hand-written baseline: one consumer polled with rd_kafka_consumer_poll and an
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
inline void copy_with_librdkafka(benchmark::State& state, const cluster& cl, const input_topic& in,
                                 const std::string& out, rates& result) {
  using namespace kactor::detail;
  for (auto _ : state) {
    settle_broker();
    const broker_cpu broker;
    const auto start = instant::now();
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
    auto producer = counting_producer({{"", "bootstrap.servers", cl.brokers()},
                                       {"", "client.id", "kactor-bench-raw"},
                                       {"", "enable.idempotence", "true"}},
                                      &failures);
    topic_ptr out_topic{rd_kafka_topic_new(producer.get(), out.c_str(), nullptr)};

    std::int64_t consumed = 0, empty_polls = 0;
    instant first;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool refused = false;
    while (consumed < in.records && !refused && std::chrono::steady_clock::now() < deadline) {
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
    broker.report(state, in.records);
    state.counters["empty_polls"] = static_cast<double>(empty_polls);
    state.counters["first_record_ms"] =
        std::chrono::duration<double, std::milli>(first.wall - start.wall).count();
  }
}

/// Topic configs that keep a partition's index files at 256 KiB (the
/// broker's default is 10 MiB), so a fresh partition's first index entry
/// zero-fills at most that much (see `warm_output_topic`). A segment then
/// rolls after ~21800 index entries, one per 4 KiB of batches or more.
inline std::map<std::string, std::string> small_index_configs() {
  return {{"segment.index.bytes", "262144"}};
}

/// Makes the broker create the first index entries of every partition of
/// `topic` (`partitions` partitions, just created) before a case writes to it.
///
/// A partition's log segment gets its first offset and time index entries
/// with the first batch appended after 4 KiB of batches. Those indexes are
/// sparse files the broker maps (10 MiB each by default), so that first
/// entry is a major page fault, and the kernel's readahead zero-fills up to
/// `read_ahead_kb` of the file with it: 8 MiB on this machine's disk, 2-15 ms
/// of the broker's CPU per fault in those runs. Copies through 256 fresh
/// partitions took 166-438 such faults and cost the broker 1.6-6.9 us per
/// record, against 0.5-0.9 us with the same partitions warm, for kactor and
/// the plain loop alike (benchmarks/RESULTS.md, 2026-12-02). A deployment pays it once per
/// segment; the cases measure copying, so the topic is warmed first: two
/// flushed rounds of one 5 KiB record to every partition. Warming 10 MiB
/// indexes of thousands of partitions reads ahead more than the page cache
/// holds, so the warmed pages were evicted again: give such topics
/// `small_index_configs`.
inline void warm_output_topic(const std::string& brokers, const std::string& topic,
                              int partitions) {
  using namespace kactor::detail;
  std::int64_t failures = 0;
  auto producer = counting_producer({{"", "bootstrap.servers", brokers}}, &failures);
  const std::string value(5 * 1024, 'w');
  for (int round = 0; round < 2; ++round) {
    for (int p = 0; p < partitions; ++p)
      if (const auto err = rd_kafka_producev(
              producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END))
        throw kafka_exception(make_error(err, "warm " + topic));
    if (rd_kafka_flush(producer.get(), 60000) != RD_KAFKA_RESP_ERR_NO_ERROR || failures > 0)
      throw std::runtime_error("warm " + topic + ": not every record delivered in 60 s");
  }
}

/// Produces `records` 100-byte records keyed over 1000 keys to a new
/// `partitions`-partition topic (with topic `configs`), in chunks to keep
/// memory flat.
inline input_topic produce_input(const cluster& cl, std::int64_t records, int partitions,
                                 const std::map<std::string, std::string>& configs = {}) {
  input_topic in;
  in.name = test::unique_name("bench-in");
  in.records = records;
  cl.create_topic(in.name, partitions, configs);
  constexpr std::int64_t chunk_size = 100000;
  for (std::int64_t from = 0; from < records; from += chunk_size) {
    std::vector<std::pair<std::string, std::string>> chunk;
    for (auto i = from; i < std::min(records, from + chunk_size); ++i)
      chunk.emplace_back(key(i), payload(i));
    test::produce_all(cl.brokers(), in.name, chunk);
  }
  in.ends = test::end_offsets(cl.brokers(), in.name, "read_uncommitted");
  return in;
}

}  // namespace kactor::bench
