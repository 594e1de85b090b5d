// An agent's prefetch budget divided over the partitions it may be assigned.

#include "src/kafka/prefetch_budget.hpp"

#include <gtest/gtest.h>

namespace {

using kactor::detail::divide_prefetch_budget;
using kactor::detail::record_overhead_bytes;
constexpr std::uint64_t MiB = 1024 * 1024;

/// What every queue at its limits, with a response in flight, may hold: the
/// larger of its bytes and its records' bookkeeping, twice (a record counts
/// its bytes and its bookkeeping).
std::uint64_t worst_case(const kactor::detail::prefetch_limits& l, int partitions) {
  const std::uint64_t bytes = static_cast<std::uint64_t>(l.queued_max_kbytes) * 1024;
  const std::uint64_t bookkeeping =
      static_cast<std::uint64_t>(l.queued_max_records) * record_overhead_bytes;
  return static_cast<std::uint64_t>(partitions) * (bytes + bookkeeping) +
         static_cast<std::uint64_t>(l.fetch_max_bytes);
}

/// The settings a division gave: queue bytes and records, response bytes.
void expect_limits(const kactor::detail::prefetch_limits& l, int kbytes, int records,
                   std::uint64_t response) {
  EXPECT_EQ(l.queued_max_kbytes, kbytes);
  EXPECT_EQ(l.queued_max_records, records);
  EXPECT_EQ(static_cast<std::uint64_t>(l.fetch_max_bytes), response);
  EXPECT_EQ(l.max_partition_fetch_bytes, 1048576) << "a fetch takes whole batches";
}

TEST(prefetch_budget, few_partitions_keep_the_defaults) {
  // 256 MiB over 8 partitions: 31.5 MiB each, more than the defaults allow.
  expect_limits(divide_prefetch_budget(256 * MiB, 8), 4096, 64512, 4 * MiB);
}

TEST(prefetch_budget, many_partitions_share_the_queues_and_keep_whole_batch_fetches) {
  for (int partitions : {64, 256, 1024, 4096}) {
    const auto l = divide_prefetch_budget(256 * MiB, partitions);
    EXPECT_LE(worst_case(l, partitions), 256 * MiB) << partitions;
    EXPECT_GT(worst_case(l, partitions), 200 * MiB) << "the budget is used: " << partitions;
    // A fetch still takes a whole batch of each partition it names.
    EXPECT_EQ(l.max_partition_fetch_bytes, 1048576) << partitions;
    EXPECT_EQ(l.fetch_max_bytes, 4 * MiB) << partitions;
  }
  expect_limits(divide_prefetch_budget(256 * MiB, 256), 504, 2016, 4 * MiB);
}

TEST(prefetch_budget, the_response_grows_with_the_budget_within_bounds) {
  EXPECT_EQ(divide_prefetch_budget(32 * MiB, 256).fetch_max_bytes, 4 * MiB);
  EXPECT_EQ(divide_prefetch_budget(512 * MiB, 256).fetch_max_bytes, 8 * MiB);
  EXPECT_EQ(divide_prefetch_budget(2048 * MiB, 256).fetch_max_bytes, 32 * MiB);
  EXPECT_EQ(divide_prefetch_budget(4096 * MiB, 256).fetch_max_bytes, 50 * MiB);
}

TEST(prefetch_budget, a_tiny_budget_still_fetches_whole_batches) {
  expect_limits(divide_prefetch_budget(1 * MiB, 100000), 1, 100, 4 * MiB);
}

TEST(prefetch_budget, partitions_take_turns_where_two_fetches_each_do_not_fit) {
  // 256 MiB: 252 MiB of queues after the 4 MiB response, 126 times 2 MiB.
  EXPECT_EQ(divide_prefetch_budget(256 * MiB, 8).fetch_slots, 0) << "all fetch at once";
  EXPECT_EQ(divide_prefetch_budget(256 * MiB, 126).fetch_slots, 0);
  EXPECT_EQ(divide_prefetch_budget(256 * MiB, 127).fetch_slots, 126);
  EXPECT_EQ(divide_prefetch_budget(256 * MiB, 1024).fetch_slots, 126);
  EXPECT_EQ(divide_prefetch_budget(32 * MiB, 256).fetch_slots, 14);
  // A budget large enough for every partition's two fetches lifts the gate.
  EXPECT_EQ(divide_prefetch_budget(4096 * MiB, 1024).fetch_slots, 0);
  EXPECT_EQ(divide_prefetch_budget(1 * MiB, 100000).fetch_slots, 1) << "one at a time";
  // 28 MiB of queues hold seven 4 MiB responses, under 32: the gate keeps
  // its slots; 128 MiB (32 responses) adapts; no gate, nothing to adapt.
  EXPECT_EQ(divide_prefetch_budget(32 * MiB, 256).queue_bytes, 0u);
  EXPECT_EQ(divide_prefetch_budget(132 * MiB, 256).queue_bytes, 128 * MiB);
  EXPECT_EQ(divide_prefetch_budget(131 * MiB, 256).queue_bytes, 0u);
  EXPECT_EQ(divide_prefetch_budget(256 * MiB, 8).queue_bytes, 0u);
  for (int partitions : {127, 256, 1024, 4096}) {
    const auto l = divide_prefetch_budget(256 * MiB, partitions);
    EXPECT_EQ(l.queue_bytes, 252 * MiB) << partitions << ": the gate adapts to the queues' part";
    const auto fetching_worst =
        static_cast<std::uint64_t>(l.fetch_slots) *
        (static_cast<std::uint64_t>(l.queued_max_kbytes) * 1024 + l.max_partition_fetch_bytes);
    EXPECT_LE(fetching_worst + static_cast<std::uint64_t>(l.fetch_max_bytes), 256 * MiB)
        << partitions << " partitions: the fetching ones' queues, each one fetch over its share";
  }
}

TEST(prefetch_budget, no_known_partition_keeps_the_queue_defaults) {
  expect_limits(divide_prefetch_budget(256 * MiB, 0), 4096, 100000, 4 * MiB);
}

}  // namespace
