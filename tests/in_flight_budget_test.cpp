// The part of an agent's prefetch budget that bounds the records its actors
// hold: its division over the tasks held, re-divided on assignment changes,
// and the whole budget's split between it and librdkafka's prefetch.

#include "actors/in_flight_budget.hpp"

#include "src/kafka/prefetch_budget.hpp"

#include <gtest/gtest.h>

namespace {

using kactor::detail::in_flight_budget;
using kactor::detail::in_flight_part;
constexpr std::uint64_t MiB = 1024 * 1024;

TEST(in_flight_budget, is_divided_evenly_over_the_tasks_held) {
  in_flight_budget b(32 * MiB);
  b.divide(8);
  EXPECT_EQ(b.share().load(), 4 * MiB);
  b.divide(256);
  EXPECT_EQ(b.share().load(), 128 * 1024u);
}

TEST(in_flight_budget, is_re_divided_on_every_assignment_change) {
  in_flight_budget b(32 * MiB);
  b.divide(4);  // a member's first assignment
  EXPECT_EQ(b.share().load(), 8 * MiB);
  b.divide(16);  // a member left: its tasks came here
  EXPECT_EQ(b.share().load(), 2 * MiB);
  b.divide(2);  // members joined and took most of them
  EXPECT_EQ(b.share().load(), 16 * MiB);
  EXPECT_EQ(b.total(), 32 * MiB);
}

TEST(in_flight_budget, holding_no_task_keeps_the_whole_budget_as_one_share) {
  in_flight_budget b(32 * MiB);
  EXPECT_EQ(b.share().load(), 32 * MiB) << "before the first assignment";
  b.divide(3);
  b.divide(0);
  EXPECT_EQ(b.share().load(), 32 * MiB);
}

TEST(in_flight_budget, with_librdkafkas_prefetch_stays_within_the_agents_budget) {
  // The prefetch worst case as prefetch_budget_test counts it (every queue
  // at both limits, a response in flight), plus every task's share. (A
  // budget under ~1.3 kB of queue a partition meets librdkafka's floors.)
  for (const std::uint64_t budget : {256 * MiB, 1024 * MiB}) {
    for (int partitions : {8, 64, 256, 1024, 4096}) {
      const auto in_flight = in_flight_part(budget);
      const auto l = kactor::detail::divide_prefetch_budget(budget - in_flight, partitions);
      const std::uint64_t queue =
          static_cast<std::uint64_t>(l.queued_max_kbytes) * 1024 +
          static_cast<std::uint64_t>(l.queued_max_records) * kactor::detail::record_overhead_bytes;
      in_flight_budget b(in_flight);
      b.divide(static_cast<std::size_t>(partitions));
      const std::uint64_t held = b.share().load() * static_cast<std::uint64_t>(partitions);
      EXPECT_LE(static_cast<std::uint64_t>(partitions) * queue +
                    static_cast<std::uint64_t>(l.fetch_max_bytes) + held,
                budget)
          << budget / MiB << " MiB over " << partitions << " partitions";
    }
  }
}

}  // namespace
