#include "actors/retry_policy.hpp"

#include <gtest/gtest.h>

using namespace kactor;
using namespace kactor::detail;
using namespace std::chrono_literals;

TEST(retry_policy, backoff_doubles_from_the_base_up_to_the_cap) {
  backoff b(100ms, 1000ms, 42);
  EXPECT_EQ(b.ceiling(1), 100ms);
  EXPECT_EQ(b.ceiling(2), 200ms);
  EXPECT_EQ(b.ceiling(3), 400ms);
  EXPECT_EQ(b.ceiling(4), 800ms);
  EXPECT_EQ(b.ceiling(5), 1000ms);
  EXPECT_EQ(b.ceiling(50), 1000ms);
}

TEST(retry_policy, jitter_stays_in_the_upper_half_of_each_step) {
  backoff b(100ms, 1000ms, 7);
  for (std::size_t n = 1; n <= 6; ++n) {
    for (int i = 0; i < 200; ++i) {
      auto d = b.next(n);
      EXPECT_GE(d, b.ceiling(n) / 2) << "attempt " << n;
      EXPECT_LE(d, b.ceiling(n)) << "attempt " << n;
    }
  }
}

TEST(retry_policy, retriable_failures_are_retried_up_to_max_retries) {
  EXPECT_EQ(next_step(error_class::retriable, 1, 3), failure_step::retry);
  EXPECT_EQ(next_step(error_class::retriable, 3, 3), failure_step::retry);
  EXPECT_EQ(next_step(error_class::retriable, 4, 3), failure_step::dead_letter);
  EXPECT_EQ(next_step(error_class::retriable, 1, 0), failure_step::dead_letter);
  EXPECT_EQ(next_step(error_class::abortable, 1, 3), failure_step::retry);
}

TEST(retry_policy, irrecoverable_goes_to_the_dead_letter_topic_at_once_and_fatal_crashes) {
  EXPECT_EQ(next_step(error_class::irrecoverable, 1, 3), failure_step::dead_letter);
  EXPECT_EQ(next_step(error_class::fatal, 1, 3), failure_step::crash);
}

TEST(retry_policy, restart_intensity_allows_n_restarts_per_window) {
  restart_intensity r(2, 1000ms);
  restart_intensity::clock::time_point t0{};
  EXPECT_TRUE(r.allow(t0));
  EXPECT_TRUE(r.allow(t0 + 100ms));
  EXPECT_FALSE(r.allow(t0 + 200ms)) << "third restart within the window escalates";
  EXPECT_TRUE(r.allow(t0 + 1050ms)) << "the first restart left the window";
  EXPECT_EQ(r.recent(), 2u);
}
