// One partition's repeated warnings: a burst, then a count of what was held back.
#include "actors/log_limiter.hpp"

#include <gtest/gtest.h>

namespace kactor::detail {
namespace {

using namespace std::chrono_literals;

TEST(log_limiter, lets_a_burst_through_then_holds_back_until_the_window_ends) {
  log_limiter limit(3, 10s);
  const log_limiter::clock::time_point t0{1h};
  EXPECT_EQ(limit.admit(t0), 0u);
  EXPECT_EQ(limit.admit(t0 + 1s), 0u);
  EXPECT_EQ(limit.admit(t0 + 2s), 0u);
  for (int i = 0; i < 27; ++i) EXPECT_FALSE(limit.admit(t0 + 3s)) << i;
  EXPECT_EQ(limit.held_back(), 27u);
  EXPECT_EQ(limit.admit(t0 + 10s), 27u) << "the next line written says how many were held back";
  EXPECT_EQ(limit.admit(t0 + 11s), 0u) << "counted once";
}

TEST(log_limiter, a_quiet_partition_is_never_held_back) {
  log_limiter limit(2, 10s);
  const log_limiter::clock::time_point t0{1h};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(limit.admit(t0 + i * 6s), 0u) << i;
  EXPECT_EQ(limit.held_back(), 0u);
}

}  // namespace
}  // namespace kactor::detail
