// The stores' memory is bounded by their budget plus a fixed cost per
// RocksDB instance, not by what they hold: 256 partitions, each writing
// 600 KB of 1000-byte values into its store (150 MB in all, far more than the
// budget), take no more memory than the same records emitted to an output
// topic plus state_memory_mb (one block cache that memtables are charged to)
// plus 384 KiB per instance (an open RocksDB instance costs ~120 KB, measured;
// its SST files' metadata and the allocator come on top). Before each
// instance's memtable was sized to its share of the budget the stores took
// 180 MB beyond the emitting run, and before a restoring partition was
// paused another ~110 MB sat in fetched records waiting for the restores.

#include <kactor/kactor.hpp>

#include <gtest/gtest.h>

#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;

constexpr int kPartitions = 256, kPerPartition = 600;
constexpr std::size_t kValueBytes = 1000, kStateMemoryMb = 32;

/// Peak RSS growth while an agent handles the whole backlog, writing each
/// record to its store (`stores`) or emitting it to `out`.
double drain(const std::string& brokers, const std::string& topic, const std::string& out,
             bool stores, const std::string& dir) {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.state_dir = dir;
  cfg.state_memory_mb = kStateMemoryMb;
  // Prefetch held small in both runs (a fetch may otherwise take up to 1 MiB
  // per partition beyond the budget: docs/design.md, "Memory under lag"), so
  // the difference between them is the stores'.
  cfg.consumer["max.partition.fetch.bytes"] = "65536";
  runtime rt(cfg);
  auto agent = rt.agent(stores ? "stateful" : "stateless")
                   .consume(topic)
                   .group(test::unique_name("memory"))
                   .prefetch_budget(16)
                   .max_poll_records(50);
  if (stores) agent.store("s");
  agent.on([&, stores](const event& e, context& ctx) {
    if (stores)
      ctx.kv("s").put(e.key(), e.value());
    else
      ctx.emit(out, e.key(), e.value(), {}, e.partition());
  });
  test::reset_peak_rss();
  const double before = test::rss_mb("VmRSS");
  rt.start();
  const std::uint64_t total = std::uint64_t{kPartitions} * kPerPartition;
  EXPECT_TRUE(
      test::eventually([&] { return rt.stats().finished() >= total; }, std::chrono::seconds(240)));
  const double growth = test::rss_mb("VmHWM") - before;
  rt.stop();
  return growth;
}

TEST(store_memory_kafka, stores_of_256_tasks_stay_within_their_budget) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto topic = test::unique_name("memory-in"), out = test::unique_name("memory-out");
  test::create_topic(brokers, topic, kPartitions);
  test::create_topic(brokers, out, kPartitions);
  const std::string value(kValueBytes, 'v');
  for (int p = 0; p < kPartitions; ++p) {
    std::vector<std::pair<std::string, std::string>> records;
    for (int i = 0; i < kPerPartition; ++i)
      records.emplace_back("p" + std::to_string(p) + "-" + std::to_string(i), value);
    test::produce_all(brokers, topic, records, {}, p);
  }
  const test::temp_dir dir("store_memory");
  const double without = drain(brokers, topic, out, false, dir.path);
  const double with = drain(brokers, topic, out, true, dir.path);
  std::printf(
      "peak RSS growth, 256 partitions, %d MB written: emitted %.0f MB, into stores %.0f MB "
      "(state_memory_mb %zu)\n",
      static_cast<int>(std::size_t{kPartitions} * kPerPartition * kValueBytes >> 20), without, with,
      kStateMemoryMb);
  EXPECT_LT(with - without, static_cast<double>(kStateMemoryMb) + kPartitions * 0.375);
}

}  // namespace
