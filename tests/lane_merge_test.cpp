// lane_merge: a task's records from several inputs, lowest timestamp first.

#include "src/group/lane_merge.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace kactor;
using namespace kactor::detail;

/// Stages records of `lane` with these timestamps; offsets count from 0.
void stage(lane_merge& m, std::uint32_t lane, const std::vector<std::int64_t>& timestamps) {
  auto& staged = m.staged(lane);
  for (auto ts : timestamps) {
    const auto off = static_cast<std::int64_t>(staged.size());
    staged.push_back(record_slot{
        event{"t" + std::to_string(lane), partition_id{3}, kactor::offset{off}, ts, "k", "v"},
        {nullptr, [](void*) {}},
        {},
        lane});
  }
}

/// (lane, timestamp) of each record handed out.
std::vector<std::pair<std::uint32_t, std::int64_t>> order(const std::deque<record_slot>& out) {
  std::vector<std::pair<std::uint32_t, std::int64_t>> v;
  for (const auto& r : out) v.emplace_back(r.lane, r.ev.timestamp_ms());
  return v;
}

TEST(lane_merge, hands_out_the_lowest_timestamp_first_across_lanes) {
  lane_merge m(2);
  stage(m, 0, {1, 5, 9});
  stage(m, 1, {2, 3, 10});
  std::deque<record_slot> out;
  EXPECT_EQ(m.hand_out(100, out), 6u);
  const std::vector<std::pair<std::uint32_t, std::int64_t>> want{{0, 1}, {1, 2}, {1, 3},
                                                                 {0, 5}, {0, 9}, {1, 10}};
  EXPECT_EQ(order(out), want);
  EXPECT_FALSE(m.any_staged());
}

TEST(lane_merge, keeps_each_lane_in_its_own_order_and_breaks_ties_by_lane) {
  lane_merge m(3);
  stage(m, 2, {7, 7});
  stage(m, 0, {7});
  // A lane's records stay in offset order even if its timestamps go back.
  stage(m, 1, {8, 4});
  std::deque<record_slot> out;
  m.hand_out(100, out);
  const std::vector<std::pair<std::uint32_t, std::int64_t>> want{
      {0, 7}, {2, 7}, {2, 7}, {1, 8}, {1, 4}};
  EXPECT_EQ(order(out), want);
  EXPECT_EQ(out[3].ev.offset().value(), 0);
  EXPECT_EQ(out[4].ev.offset().value(), 1);
}

TEST(lane_merge, hands_out_at_most_max_and_keeps_the_rest_staged) {
  lane_merge m(2);
  stage(m, 0, {1, 4});
  stage(m, 1, {2, 3});
  std::deque<record_slot> out;
  EXPECT_EQ(m.hand_out(3, out), 3u);
  EXPECT_TRUE(m.any_staged());
  EXPECT_EQ(m.staged(0).size(), 1u);
  EXPECT_TRUE(m.staged(1).empty());
  EXPECT_EQ(m.hand_out(3, out), 1u);
  EXPECT_EQ(out.back().ev.timestamp_ms(), 4);
}

TEST(lane_merge, an_empty_lane_does_not_hold_the_others_back) {
  lane_merge m(2);
  stage(m, 1, {50, 60});
  std::deque<record_slot> out;
  EXPECT_EQ(m.hand_out(10, out), 2u);
  EXPECT_EQ(out.front().lane, 1u);
}

TEST(lane_merge, a_dropped_lane_loses_its_staged_records_only) {
  lane_merge m(2);
  stage(m, 0, {1, 2});
  stage(m, 1, {3});
  m.drop(0);
  std::deque<record_slot> out;
  EXPECT_EQ(m.hand_out(10, out), 1u);
  EXPECT_EQ(out.front().lane, 1u);
}

}  // namespace
