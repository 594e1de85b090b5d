// An agent's prefetch budget on the real broker: 256 partitions with a
// backlog far larger than any budget and a slow handler. Drained with the
// default budget over a backlog written in librdkafka's ~1 MB batches, and
// with a huge and a tiny budget over one written in 16 KiB batches: in every
// run each partition's records are all handled, once each, and no partition
// starves: when half the backlog is handled, nine partitions in ten have
// handled at least an eighth of their even share and every one a 64th
// (before fetches took whole batches, most partitions had handled nothing
// at that point behind 1 MB batches; issue 15). An eighth for every
// partition, asserted before, failed about one run in three, old code and
// new alike: a partition whose first fetch comes last (a fetch response,
// 16 MiB then, carried ~50 of the 256) had handled 32-70 of 750 in those runs.
//
// The records each partition's actor holds stay within its share of the
// budget's in-flight part (with the 32 MiB budget that share, 13 records of
// 1 KB, binds below max_poll_records' 20).
//
// Memory is not kept near the budget: each partition may hold one fetch (up
// to 1 MiB) beyond its share, and librdkafka 2.0.2 hands out records that
// point into the fetch response they came in, so a record still held keeps
// its whole response alive (docs/design.md, "Memory under lag").

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
  std::vector<std::uint64_t> handled;  // per partition, at the end
  std::vector<std::uint64_t> at_half;  // per partition, when half was handled
  std::size_t most_held = 0;           // the most records any partition's actor held
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
        ++out.handled[static_cast<std::size_t>(e.partition().value())];
        if (++total_handled == std::uint64_t{kPartitions} * kPerPartition / 2)
          out.at_half = out.handled;
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
/// partition starved. Returns the peak RSS growth in MB.
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
  EXPECT_EQ(r.at_half.size(), static_cast<std::size_t>(kPartitions));
  if (r.at_half.empty()) return r.peak_growth_mb;
  auto sorted = r.at_half;
  std::sort(sorted.begin(), sorted.end());
  const auto slowest = sorted.front(), tenth = sorted[sorted.size() / 10];
  constexpr std::uint64_t share = kPerPartition / 2;
  EXPECT_GE(tenth, share / 8) << "partitions fell behind, budget " << budget_mb << " MiB";
  EXPECT_GE(slowest, share / 64) << "a partition starved, budget " << budget_mb << " MiB";
  std::printf(
      "budget %zu MiB: peak RSS growth %.0f MB; at half the backlog the slowest partition had "
      "handled %llu of its even share %llu, the tenth percentile %llu; one actor held at most %zu "
      "records\n",
      budget_mb, r.peak_growth_mb, static_cast<unsigned long long>(slowest),
      static_cast<unsigned long long>(share), static_cast<unsigned long long>(tenth), r.most_held);
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
  // Batches of 16 KiB, as a Java producer writes by default. The peak RSS
  // growths are printed, not compared: what every partition may hold beyond
  // its share (one fetch, up to 1 MiB: 256 MB here) dominates both runs.
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty()) << "KACTOR_KAFKA_DIR is not set";
  const auto topic = backlog(brokers, {{"", "batch.size", "16384"}});
  RecordProperty("peak_rss_growth_mb_budget_4096",
                 static_cast<int>(drain_checked(brokers, topic, 4096)));
  RecordProperty("peak_rss_growth_mb_budget_32",
                 static_cast<int>(drain_checked(brokers, topic, 32)));
  test::delete_topic(brokers, topic);
}

}  // namespace
