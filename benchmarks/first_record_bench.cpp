// Time to first record: from `runtime::start()` to the first record a handler
// sees, against a plain librdkafka consumer from `subscribe()` to its first
// record, both in one process on the same cluster, one new consumer group per
// iteration, records waiting in a 4-partition topic.
//
// On the embedded mock cluster both take ~3.1 s: librdkafka 2.0.2's mock
// group coordinator answers a group's first JoinGroup only after a fixed
// 3000 ms (rd_kafka_mock_cgrp_rebalance in src/rdkafka_mock_cgrp.c), as a
// broker does with group.initial.rebalance.delay.ms, and nothing configures
// it. On a real broker the figure is the broker's group.initial.rebalance.delay.ms
// (Kafka's default 3000 ms; scripts/kafka.sh sets 0) plus the join.
//
//   build/benchmarks/first_record_bench                          # embedded
//   KACTOR_BROKERS=127.0.0.1:9092 build/benchmarks/first_record_bench

#include <atomic>
#include <chrono>
#include <string>

#include <benchmark/benchmark.h>
#include <kactor/kactor.hpp>

#include "benchmarks/bench_support.hpp"
#include "src/kafka/handles.hpp"

namespace {

using namespace kactor;
using clock_type = std::chrono::steady_clock;

constexpr int kPartitions = 4;

/// A topic with one record in each partition.
std::string topic_with_records(const bench::cluster& cl) {
  const auto topic = test::unique_name("first-record");
  cl.create_topic(topic, kPartitions);
  auto cfg = bench::config();
  cfg.brokers = cl.brokers();
  runtime feeder(cfg);
  for (int i = 0; i < kPartitions; ++i) feeder.emit(topic, "key-" + std::to_string(i), "v");
  if (!feeder.flush(std::chrono::seconds(30))) throw std::runtime_error("feeding " + topic);
  return topic;
}

void kactor_first_record(benchmark::State& state, const bench::cluster* cl) {
  const auto topic = topic_with_records(*cl);
  for (auto _ : state) {
    auto cfg = bench::config();
    cfg.brokers = cl->brokers();
    runtime rt(cfg);
    std::atomic<bool> seen{false};
    rt.agent("first")
        .consume(topic)
        .group(test::unique_name("first-kactor"))
        .on([&](const event&, context&) { seen = true; });
    const auto t0 = clock_type::now();
    rt.start();
    if (!bench::poll_until([&] { return seen.load(); }, std::chrono::seconds(60)))
      state.SkipWithError("no record within 60 s");
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
}

void librdkafka_first_record(benchmark::State& state, const bench::cluster* cl) {
  using namespace kactor::detail;
  const auto topic = topic_with_records(*cl);
  for (auto _ : state) {
    auto consumer = make_client(
        RD_KAFKA_CONSUMER, make_conf({{"", "bootstrap.servers", cl->brokers()},
                                      {"", "group.id", test::unique_name("first-plain")},
                                      {"", "auto.offset.reset", "earliest"},
                                      {"", "partition.assignment.strategy", "cooperative-sticky"},
                                      {"", "log_level", "3"}}));
    rd_kafka_poll_set_consumer(consumer.get());
    auto topics = make_tpl(1);
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    const auto t0 = clock_type::now();
    rd_kafka_subscribe(consumer.get(), topics.get());
    const auto deadline = t0 + std::chrono::seconds(60);
    bool seen = false;
    while (!seen && clock_type::now() < deadline) {
      message_ptr m{rd_kafka_consumer_poll(consumer.get(), 10)};
      seen = m && m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    if (!seen) state.SkipWithError("no record within 60 s");
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
    rd_kafka_consumer_close(consumer.get());
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::cluster cl;
  if (!bench::initialize(argc, argv, 3)) return 1;
  benchmark::AddCustomContext("cluster", cl.describe());
  for (auto [name, fn] :
       {std::pair{"kactor_start_to_first_record", &kactor_first_record},
        std::pair{"librdkafka_subscribe_to_first_record", &librdkafka_first_record}})
    benchmark::RegisterBenchmark(name, fn, &cl)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
