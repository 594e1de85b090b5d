// An agent's prefetch budget divided over the partitions it may be assigned.

#include "src/kafka/prefetch_budget.hpp"

#include <gtest/gtest.h>

namespace {

using kactor::detail::divide_prefetch_budget;
constexpr std::uint64_t MiB = 1024 * 1024;

TEST(prefetch_budget, few_partitions_keep_the_defaults) {
  // 256 MiB over 8 partitions: 16 MiB each, more than the defaults allow.
  const auto l = divide_prefetch_budget(256 * MiB, 8);
  EXPECT_EQ(l.queued_max_kbytes, 4096);
  EXPECT_EQ(l.max_partition_fetch_bytes, 1048576);
}

TEST(prefetch_budget, many_partitions_share_the_budget) {
  for (int partitions : {64, 256, 1024, 4096}) {
    const auto l = divide_prefetch_budget(256 * MiB, partitions);
    // Queued plus one fetch, on every partition, within the budget.
    const std::uint64_t worst =
        static_cast<std::uint64_t>(partitions) *
        (static_cast<std::uint64_t>(l.queued_max_kbytes) * 1024 + l.max_partition_fetch_bytes);
    EXPECT_LE(worst, 256 * MiB) << partitions << " partitions";
    EXPECT_GT(worst, 200 * MiB) << "the budget is used, not wasted: " << partitions;
  }
  const auto l = divide_prefetch_budget(256 * MiB, 1024);
  EXPECT_EQ(l.queued_max_kbytes, 128);
  EXPECT_EQ(l.max_partition_fetch_bytes, 128 * 1024);
}

TEST(prefetch_budget, a_tiny_share_still_fetches) {
  const auto l = divide_prefetch_budget(1 * MiB, 100000);
  EXPECT_EQ(l.queued_max_kbytes, 1);
  EXPECT_EQ(l.max_partition_fetch_bytes, 16 * 1024);
}

TEST(prefetch_budget, no_known_partition_keeps_the_defaults) {
  const auto l = divide_prefetch_budget(256 * MiB, 0);
  EXPECT_EQ(l.queued_max_kbytes, 4096);
  EXPECT_EQ(l.max_partition_fetch_bytes, 1048576);
}

}  // namespace
