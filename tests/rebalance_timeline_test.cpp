// What `kactor bench rebalance` measures from a repetition's timeline, and
// the picture it draws of it (rendered in headless Chromium), on timelines
// built here with known answers.

#include "src/cli/rebalance_timeline.hpp"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using detail::mono_ns;

constexpr mono_ns ms = 1'000'000;

/// A join: member 1 holds p0..p3 and handles a record on each every 10 ms
/// from 0 to 3000 ms; member 2 starts at 1000 ms (the change); member 1 gives
/// up p2 and p3 at 1300 ms; member 2 gets them at 2000 ms and handles its
/// first records at 2010 (p2) and 2020 ms (p3), then every 10 ms. p1 has a
/// 60 ms gap from 1500 to 1560 ms; the steady window starts at 0.
detail::rebalance_timeline join_timeline() {
  detail::rebalance_timeline tl;
  tl.partitions = 4;
  tl.members = {{1, "member 1"}, {2, "member 2"}};
  tl.steady_from = 0;
  tl.change = 1000 * ms;
  tl.final_members = {1, 2};
  tl.statuses.push_back({0, 1, {{0, 0}, {1, 0}, {2, 0}, {3, 0}}, 0, 0});
  tl.statuses.push_back({1300 * ms, 1, {{0, 0}, {1, 0}}, 2, 1.5});
  tl.statuses.push_back({2000 * ms, 2, {{2, 0}, {3, 0}}, 0, 0});
  for (mono_ns t = 0; t <= 3000 * ms; t += 10 * ms) {
    for (int p : {0, 1})
      if (!(p == 1 && t > 1500 * ms && t < 1560 * ms)) tl.records.push_back({t, p, 1});
    for (int p : {2, 3}) {
      if (t < 1300 * ms) tl.records.push_back({t, p, 1});
      if (t >= 2000 * ms) tl.records.push_back({t + (p - 1) * 10 * ms, p, 2});
    }
  }
  tl.events = {{0, "member 1 starts"}, {1000 * ms, "member 2 starts"}, {2020 * ms, "settled"}};
  return tl;
}

TEST(rebalance_timeline, join_measures_moved_and_unmoved_partitions) {
  auto tl = join_timeline();
  tl.settled = 2020 * ms;
  tl.observed = 2030 * ms;
  const auto m = detail::measure(tl);
  ASSERT_EQ(m.moved.size(), 2u);
  EXPECT_EQ(m.moved[0].partition, 2);
  EXPECT_EQ(m.moved[0].from, 1);
  EXPECT_EQ(m.moved[0].to, 2);
  EXPECT_DOUBLE_EQ(m.moved[0].first_record_ms, 1010);
  EXPECT_DOUBLE_EQ(m.moved[1].first_record_ms, 1020);
  EXPECT_FALSE(m.moved[0].restore_ms.has_value());
  ASSERT_EQ(m.unmoved.size(), 2u);
  EXPECT_EQ(m.unmoved[0].partition, 0);
  EXPECT_NEAR(m.unmoved[0].longest_gap_ms, 10, 1e-9);
  EXPECT_NEAR(m.unmoved[1].longest_gap_ms, 60, 1e-9);
  EXPECT_EQ(m.partitions_revoked, 0);
  EXPECT_FALSE(m.unmoved[1].revoked);
  EXPECT_NEAR(m.steady_gap_ms, 10, 1e-9);
  EXPECT_DOUBLE_EQ(m.settle_ms, 1020);
  EXPECT_DOUBLE_EQ(m.revoke_callback_ms, 1.5);
}

TEST(rebalance_timeline, a_gap_outside_the_rebalance_does_not_count) {
  auto tl = join_timeline();
  tl.settled = 1400 * ms;  // the 60 ms gap on p1 starts after settle
  tl.observed = 2030 * ms;
  const auto m = detail::measure(tl);
  EXPECT_NEAR(m.unmoved[1].longest_gap_ms, 10, 1e-9);
}

TEST(rebalance_timeline, an_unmoved_partition_revoked_and_given_back_is_counted) {
  auto tl = join_timeline();
  tl.settled = 2020 * ms;
  tl.observed = 2030 * ms;
  // Eager: member 1 had p0 revoked and assigned back (its count went to 1).
  tl.statuses.push_back({2000 * ms, 1, {{0, 1}, {1, 0}}, 3, 0.5});
  const auto m = detail::measure(tl);
  EXPECT_EQ(m.partitions_revoked, 1);
  EXPECT_TRUE(m.unmoved[0].revoked);
  EXPECT_FALSE(m.unmoved[1].revoked);
  EXPECT_DOUBLE_EQ(m.revoke_callback_ms, 0.5);
}

TEST(rebalance_timeline, settles_only_when_new_owners_handled_a_record) {
  auto tl = join_timeline();
  const auto records = tl.records;
  const auto statuses = tl.statuses;
  tl.records.clear();
  tl.statuses.assign(statuses.begin(), statuses.begin() + 1);
  // Member 2 holds nothing yet: not settled, though member 1 holds everything.
  EXPECT_FALSE(detail::group_settled(tl));
  tl.statuses = statuses;
  // Both hold their share, but member 2 has handled nothing.
  for (const auto& r : records)
    if (r.member == 1) tl.records.push_back(r);
  EXPECT_FALSE(detail::group_settled(tl));
  tl.records.push_back({2010 * ms, 2, 2});
  EXPECT_FALSE(detail::group_settled(tl)) << "p3 has no record from member 2 yet";
  tl.records.push_back({2020 * ms, 3, 2});
  EXPECT_TRUE(detail::group_settled(tl));
  // A partition claimed by two members is not settled.
  tl.statuses.push_back({2100 * ms, 1, {{0, 0}, {1, 0}, {2, 0}}, 2, 0});
  EXPECT_FALSE(detail::group_settled(tl));
}

TEST(rebalance_timeline, a_crashed_member_is_not_an_owner) {
  detail::rebalance_timeline tl;
  tl.partitions = 2;
  tl.members = {{1, "member 1"}, {2, "member 2"}};
  tl.statuses.push_back({0, 1, {{0, 0}}, 0, 0});
  tl.statuses.push_back({0, 2, {{1, 0}}, 0, 0});
  tl.change = 1000 * ms;
  tl.final_members = {1};
  tl.statuses.push_back({1000 * ms, 2, {}, 0, 0});  // killed: holds nothing from now on
  EXPECT_FALSE(detail::group_settled(tl));
  tl.statuses.push_back({7000 * ms, 1, {{0, 0}, {1, 0}}, 0, 0});
  tl.records.push_back({7010 * ms, 1, 1});
  EXPECT_TRUE(detail::group_settled(tl));
  tl.settled = 7010 * ms;
  tl.observed = 7015 * ms;
  tl.records.push_back({7020 * ms, 0, 1});
  const auto m = detail::measure(tl);
  ASSERT_EQ(m.moved.size(), 1u);
  EXPECT_EQ(m.moved[0].from, 2);
  EXPECT_DOUBLE_EQ(m.moved[0].first_record_ms, 6010);
}

TEST(rebalance_timeline, chromium_draws_a_lane_per_partition_and_a_mark_per_record) {
  auto tl = join_timeline();
  tl.settled = 2020 * ms;
  tl.observed = 2030 * ms;
  // The picture shows the steady window to shortly after settle: count the
  // records it covers per member.
  const mono_ns view_end = detail::view_end(tl);
  EXPECT_EQ(view_end, tl.settled + (tl.settled - tl.steady_from) / 6) << "longer than 300 ms";
  std::map<std::string, int> expected;
  for (const auto& r : tl.records)
    if (r.at >= tl.steady_from && r.at <= view_end) ++expected[std::to_string(r.member)];
  const auto path = test::unique_name("/tmp/kactor-rebalance-timeline") + ".svg";
  std::ofstream(path) << detail::render_timeline_svg(tl, "join <test> & check");

  const auto drawn = test::render_svg(path);
  EXPECT_EQ(drawn.lanes, 4);
  EXPECT_EQ(drawn.lanes_drawn, 4);
  EXPECT_EQ(drawn.marks, expected);
  int total = 0;
  for (const auto& [m, n] : expected) total += n;
  EXPECT_EQ(drawn.marks_drawn, total);
  EXPECT_EQ(drawn.marks_in_lane, total);
  // Marks drawn over one another hide some: most must be on top.
  EXPECT_GT(drawn.marks_on_top, total / 2);
  ASSERT_EQ(drawn.fills.size(), 2u);
  EXPECT_NE(drawn.fills.at("1"), drawn.fills.at("2"));
  EXPECT_EQ(drawn.events,
            (std::vector<std::string>{"member 1 starts", "member 2 starts", "settled"}));
  std::remove(path.c_str());
  std::remove((path + ".html").c_str());
}

}  // namespace
