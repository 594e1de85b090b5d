// An agent's prefetch budget on the real broker: 256 partitions with a
// backlog far larger than any budget and a slow handler. Drained with the
// default budget over a backlog written in librdkafka's ~1 MB batches, and
// with a tiny and a huge budget over one written in 16 KiB batches. In every
// run:
// - each partition's records are all handled, once each;
// - the process's RSS grows by less than the budget (issue 15; before the
//   fetch gate it grew by 558 MiB with the default budget, 377 MiB with 32 MiB);
// - the records each partition's actor holds stay within its share of the
//   budget's in-flight part (with the 32 MiB budget that share, 13 records of
//   1 KB, binds below max_poll_records' 20);
// - no partition starves: when three quarters of the backlog are handled,
//   every partition has handled at least a quarter of its even share and
//   nine in ten at least half.
//
// Three quarters, not half: within the default and the tiny budget the
// partitions fetch in turns of one fetch each (src/kafka/fetch_gate.hpp; 110
// and 12 at a time), and a partition's turn brings ~1000 of its 1500 records,
// so when half the backlog is handled the last in line have not had their
// first turn (0 handled, measured). Until 2026-12-02 the test asserted at
// half: nine partitions in ten an eighth of the even share and every one a
// 64th, without a bound on memory.

#include <kactor/kactor.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "actors/in_flight_budget.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;

constexpr int kPartitions = 256;
constexpr int kPerPartition = 1500;
constexpr std::size_t kValueBytes = 1000;  // 256 x 1500 x 1000 B: a 384 MB backlog
constexpr std::size_t kMaxPollRecords = 20;

/// What `drain` saw.
struct run_result {
  double peak_growth_mb = 0;
  std::vector<std::uint64_t> handled;            // per partition, at the end
  std::vector<std::uint64_t> at_three_quarters;  // per partition, when 3/4 were handled
  std::vector<std::uint64_t> first_at;           // per partition: records handled before its first
  std::size_t most_held = 0;                     // the most records any partition's actor held
  bool done = false;
};

/// Runs an agent with `budget_mb` over the backlog with a slow handler until
/// every record is handled; measures the peak RSS growth meanwhile.
run_result drain(const std::string& brokers, const std::string& topic, std::size_t budget_mb) {
  runtime_config cfg;
  cfg.brokers = brokers;
  runtime rt(cfg);
  std::mutex mx;
  run_result out;
  out.handled.assign(kPartitions, 0);
  out.first_at.assign(kPartitions, 0);
  std::uint64_t total_handled = 0;
  rt.agent("slow")
      .consume(topic)
      .group(test::unique_name("budget"))
      .max_poll_records(kMaxPollRecords)
      .prefetch_budget(budget_mb)
      .on([&](const event& e, context&) {
        // 50 us per record: the backlog takes ~10 s to drain on two workers
        // and a few seconds to prefetch, so most of it can sit in
        // librdkafka's queues.
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
        while (std::chrono::steady_clock::now() < until) {
        }
        std::lock_guard lock(mx);
        const auto p = static_cast<std::size_t>(e.partition().value());
        if (out.handled[p]++ == 0) out.first_at[p] = total_handled;
        if (++total_handled == std::uint64_t{kPartitions} * kPerPartition * 3 / 4)
          out.at_three_quarters = out.handled;
      });
  test::reset_peak_rss();
  const double before = test::rss_mb("VmRSS");
  rt.start();
  constexpr std::uint64_t total = std::uint64_t{kPartitions} * kPerPartition;
  out.done =
      test::eventually([&] { return rt.stats().finished() >= total; }, std::chrono::seconds(240));
  out.peak_growth_mb = test::rss_mb("VmHWM") - before;
  for (const auto& agent : rt.stats().agents)
    for (const auto& p : agent.partitions) out.most_held = std::max(out.most_held, p.max_in_flight);
  rt.stop();
  return out;
}

/// A 256-partition topic holding the backlog, written with `producer` settings.
std::string backlog(const std::string& brokers, const detail::property_list& producer) {
  const auto topic = test::unique_name("budget-in");
  test::create_topic(brokers, topic, kPartitions);
  const std::string value(kValueBytes, 'v');
  for (int p = 0; p < kPartitions; ++p) {
    std::vector<std::pair<std::string, std::string>> records(kPerPartition, {"k", value});
    test::produce_all(brokers, topic, records, producer, p);
  }
  return topic;
}

/// Drains `topic` with `budget_mb`: every record handled once, and no
/// partition starved, within the budget. Returns the peak RSS growth in MiB.
double drain_checked(const std::string& brokers, const std::string& topic, std::size_t budget_mb) {
  const auto r = drain(brokers, topic, budget_mb);
  EXPECT_TRUE(r.done) << "every record handled, budget " << budget_mb << " MiB";
  for (int p = 0; p < kPartitions; ++p)
    EXPECT_EQ(r.handled[static_cast<std::size_t>(p)], static_cast<std::uint64_t>(kPerPartition))
        << "partition " << p << ", budget " << budget_mb << " MiB";
  // One member holds all 256 tasks: each holds its 256th of the in-flight
  // part, by the records' bytes, and one record more at most.
  const auto held_share = detail::in_flight_part(std::uint64_t{budget_mb} << 20) / kPartitions;
  const auto by_share =
      static_cast<std::size_t>(held_share / detail::held_bytes(1, kValueBytes)) + 1;
  EXPECT_LE(r.most_held, std::min(kMaxPollRecords, by_share))
      << "records held by one actor, budget " << budget_mb << " MiB";
  EXPECT_LT(r.peak_growth_mb, static_cast<double>(budget_mb))
      << "RSS growth in MiB, budget " << budget_mb << " MiB";
  EXPECT_EQ(r.at_three_quarters.size(), static_cast<std::size_t>(kPartitions));
  if (r.at_three_quarters.empty()) return r.peak_growth_mb;
  auto sorted = r.at_three_quarters;
  std::sort(sorted.begin(), sorted.end());
  const auto slowest = sorted.front(), tenth = sorted[sorted.size() / 10];
  constexpr std::uint64_t share = kPerPartition * 3 / 4;
  EXPECT_GE(tenth, share / 2) << "partitions fell behind, budget " << budget_mb << " MiB";
  EXPECT_GE(slowest, share / 4) << "a partition starved, budget " << budget_mb << " MiB";
  const auto last_start = *std::max_element(r.first_at.begin(), r.first_at.end());
  std::printf(
      "budget %zu MiB: peak RSS growth %.0f MiB; at three quarters of the backlog the slowest "
      "partition had handled %llu of its even share %llu, the tenth percentile %llu; the last "
      "partition to start handled its first record after %llu of %llu; one actor held at most "
      "%zu records\n",
      budget_mb, r.peak_growth_mb, static_cast<unsigned long long>(slowest),
      static_cast<unsigned long long>(share), static_cast<unsigned long long>(tenth),
      static_cast<unsigned long long>(last_start),
      static_cast<unsigned long long>(std::uint64_t{kPartitions} * kPerPartition), r.most_held);
  return r.peak_growth_mb;
}

TEST(prefetch_budget_kafka, no_partition_starves_behind_whole_megabyte_batches) {
  // librdkafka's producer defaults: ~1 MB batches, each larger than one
  // partition's share of the default budget.
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty()) << "KACTOR_KAFKA_DIR is not set";
  const auto topic = backlog(brokers, {});
  drain_checked(brokers, topic, 256);
  test::delete_topic(brokers, topic);
}

TEST(prefetch_budget_kafka, a_tiny_and_a_huge_budget_drain_every_partition_fairly) {
  // Batches of 16 KiB, as a Java producer writes by default. The tiny budget
  // first: memory the huge one's run leaves to malloc would hide its growth.
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty()) << "KACTOR_KAFKA_DIR is not set";
  const auto topic = backlog(brokers, {{"", "batch.size", "16384"}});
  RecordProperty("peak_rss_growth_mb_budget_32",
                 static_cast<int>(drain_checked(brokers, topic, 32)));
  RecordProperty("peak_rss_growth_mb_budget_4096",
                 static_cast<int>(drain_checked(brokers, topic, 4096)));
  test::delete_topic(brokers, topic);
}

}  // namespace
