// A partition's queue on the embedded cluster: its actor takes every record
// once, in order, while the fetch gate pauses and resumes the partition from
// another thread. librdkafka 2.0.2's batch consume loses records when a
// pause, resume or seek of the partition runs meanwhile
// (scripts/probes/batch_consume_during_pause.c); the queue serialises them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "src/kafka/fetch_gate.hpp"
#include "src/kafka/handles.hpp"
#include "src/kafka/partition_queue.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

using namespace kactor;
using namespace kactor::detail;

constexpr int kPartitions = 2;
// A partition: the embedded cluster keeps only the last ~45k of these.
constexpr std::int64_t kRecords = 30000;
const std::string kTopic = "queue-under-gate";

/// What one partition's actor saw: offsets below the next one expected are
/// fetched again (the actor drops them); one above it skips records.
struct seen {
  std::int64_t next = 0;
  std::int64_t skipped = 0;

  void record(std::int64_t offset) {
    if (offset < next) return;
    skipped += offset - next;
    next = offset + 1;
  }
  // A take that found only transaction markers: this topic has none, so a
  // jump past `next` skips records.
  void markers(std::int64_t last) {
    if (last + 1 > next) {
      skipped += last + 1 - next;
      next = last + 1;
    }
  }
};

handle_ptr mock_cluster_owner() {
  return make_client(RD_KAFKA_PRODUCER,
                     make_conf({{"", "test.mock.num.brokers", "1"}, {"", "log_level", "3"}}));
}

void produce(const std::string& bootstrap) {
  auto producer = make_client(RD_KAFKA_PRODUCER, make_conf({{"", "bootstrap.servers", bootstrap},
                                                            {"", "linger.ms", "5"},
                                                            {"", "log_level", "3"}}));
  const std::string value(100, 'v');
  for (std::int64_t i = 0; i < kRecords; ++i) {
    for (int p = 0; p < kPartitions; ++p) {
      while (rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(kTopic.c_str()),
                               RD_KAFKA_V_PARTITION(p),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(producer.get(), 10);
    }
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), 60000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

TEST(partition_queue, takes_every_record_once_while_the_gate_pauses_it_from_another_thread) {
  auto owner = mock_cluster_owner();
  auto* mock = rd_kafka_handle_mock_cluster(owner.get());
  ASSERT_EQ(rd_kafka_mock_topic_create(mock, kTopic.c_str(), kPartitions, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
  produce(bootstrap);
  auto watermarks = [&](int p) {
    std::int64_t low = -1, high = -1;
    rd_kafka_query_watermark_offsets(owner.get(), kTopic.c_str(), p, &low, &high, 10000);
    return std::pair{low, high};
  };
  for (int p = 0; p < kPartitions; ++p)
    ASSERT_EQ(watermarks(p), std::pair(std::int64_t{0}, kRecords)) << "partition " << p;

  auto consumer =
      make_client(RD_KAFKA_CONSUMER, make_conf({{"", "bootstrap.servers", bootstrap},
                                                {"", "group.id", "queue-under-gate"},
                                                {"", "enable.auto.commit", "false"},
                                                {"", "enable.partition.eof", "true"},
                                                // ~130 records a fetch: many turns.
                                                {"", "max.partition.fetch.bytes", "16384"},
                                                {"", "fetch.wait.max.ms", "10"},
                                                {"", "log_level", "3"}}));
  auto assignment = make_tpl(kPartitions);
  for (int p = 0; p < kPartitions; ++p)
    rd_kafka_topic_partition_list_add(assignment.get(), kTopic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  ASSERT_EQ(rd_kafka_assign(consumer.get(), assignment.get()), RD_KAFKA_RESP_ERR_NO_ERROR);

  // One slot, turns of no minimum length, and every holder counts as
  // stalled: each `rotate` stops the partition fetching now, from the
  // rotating thread, and starts the other.
  fetch_gate gate(1, {}, {});
  std::vector<std::unique_ptr<partition_queue>> queues;
  for (int p = 0; p < kPartitions; ++p)
    queues.push_back(std::make_unique<partition_queue>(
        consumer.get(), topic_partition{kTopic, partition_id{p}}, &gate));

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  std::vector<seen> actors(kPartitions);
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kPartitions; ++p) {
    threads.emplace_back([&, p] {
      auto& q = *queues[p];
      auto& s = actors[p];
      while (s.next < kRecords && std::chrono::steady_clock::now() < deadline) {
        const auto n = q.take(
            500, [&s](const event& ev, opaque_message) { s.record(ev.offset().value()); },
            [&s](kactor::offset last) { s.markers(last.value()); });
        if (n == 0) std::this_thread::yield();
      }
      done.fetch_add(1);
    });
  }
  // Every 0.5 ms, as the group thread's loop does every 100 ms: the rate of
  // pauses from another thread, not a wait for something to happen.
  std::size_t handovers = 0;
  while (done.load() < kPartitions) {
    const bool first_fetched = queues[0]->fetching();
    gate.rotate();
    handovers += queues[0]->fetching() != first_fetched ? 1 : 0;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  for (auto& t : threads) t.join();
  queues.clear();

  for (int p = 0; p < kPartitions; ++p) {
    SCOPED_TRACE("partition " + std::to_string(p));
    EXPECT_EQ(actors[p].skipped, 0);
    EXPECT_EQ(actors[p].next, kRecords);
  }
  // The rotations did move the turn while the partitions were taken.
  EXPECT_GT(handovers, 10u);
}

}  // namespace
