// The in-flight part of an agent's prefetch budget on the embedded cluster:
// divided over the tasks a member holds, and again when a rebalance changes
// them. Every record fails with a long backoff, so each partition's actor
// keeps what it took: as many records as its share allows.

#include <kactor/kactor.hpp>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "actors/in_flight_budget.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;

constexpr int kPartitions = 8;
constexpr std::size_t kBudgetMb = 1;
const std::string kValue(1000, 'v');

/// The most records an actor of a member holding `tasks` tasks may hold:
/// its share by these records' size, and one more (the take that crosses it).
std::size_t most_held(std::size_t tasks) {
  const auto share = detail::in_flight_part(std::uint64_t{kBudgetMb} << 20) / tasks;
  return static_cast<std::size_t>(share / detail::held_bytes(7, kValue.size())) + 1;
}

runtime_config mock_config(const std::string& brokers = "") {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.consumer["session.timeout.ms"] = "6000";
  cfg.consumer["heartbeat.interval.ms"] = "500";
  return cfg;
}

void add_agent(runtime& rt) {
  supervision_policy never_done;
  never_done.max_retries = 1000;
  never_done.backoff_base = std::chrono::seconds(60);
  never_done.backoff_max = std::chrono::seconds(60);
  rt.agent("stuck")
      .consume("held")
      .group("held")
      .prefetch_budget(kBudgetMb)
      .supervision(never_done)
      .on([](const event&, context&) { throw std::runtime_error("not yet"); });
}

/// Whether every partition `rt` holds holds between `low` and `high` records,
/// and it holds `partitions` of them.
bool holding(runtime& rt, std::size_t partitions, std::size_t low, std::size_t high) {
  const auto stats = rt.stats();
  std::size_t assigned = 0;
  for (const auto& p : stats.agents.at(0).partitions) {
    if (!p.assigned) continue;
    ++assigned;
    if (p.in_flight < low || p.in_flight > high) return false;
  }
  return assigned == partitions;
}

/// Each assigned partition of `rt` and the records its actor holds.
std::string held(runtime& rt) {
  std::string out;
  const auto stats = rt.stats();
  for (const auto& p : stats.agents.at(0).partitions)
    if (p.assigned)
      out += " " + std::to_string(p.tp.partition.value()) + ":" + std::to_string(p.in_flight);
  return out;
}

TEST(in_flight_budget_mock, a_rebalance_divides_the_share_again) {
  ASSERT_LT(most_held(kPartitions), 500u) << "the share, not max_poll_records, must bind";
  runtime first(mock_config());
  first.create_topic("held", kPartitions);
  // 800 keys of 7 bytes spread over the partitions by hash, far more than
  // a quarter's share each.
  for (int i = 0; i < 800; ++i) {
    auto key = std::to_string(i);
    first.emit("held", "key-" + std::string(3 - key.size(), '0') + key, kValue);
  }
  ASSERT_TRUE(first.flush(std::chrono::seconds(30)));
  add_agent(first);
  first.start();
  // Alone, the member holds 8 tasks: a share of 1/8 each.
  const auto eighth = most_held(kPartitions);
  EXPECT_TRUE(test::eventually([&] { return holding(first, kPartitions, eighth - 1, eighth); }))
      << "each actor holds its eighth, " << eighth << " records; held:" << held(first);

  runtime second(mock_config(first.bootstrap_servers()));
  add_agent(second);
  second.start();
  // Four tasks each: every actor, on either member, may hold twice as much.
  const auto quarter = most_held(kPartitions / 2);
  ASSERT_GE(quarter, 2 * eighth - 2);
  EXPECT_TRUE(test::eventually([&] {
    return holding(first, kPartitions / 2, quarter - 1, quarter) &&
           holding(second, kPartitions / 2, quarter - 1, quarter);
  })) << "each actor holds its quarter, "
      << quarter << " records; first held:" << held(first) << "; second held:" << held(second);
  second.stop();
  first.stop();
}

}  // namespace
