#include "actors/mailbox_bound.hpp"

#include <gtest/gtest.h>

using kactor::detail::mailbox_bound;
using action = mailbox_bound::action;
using namespace std::chrono_literals;

TEST(mailbox_bound, never_offers_more_room_than_the_capacity) {
  mailbox_bound b(10, 5);
  EXPECT_EQ(b.room(), 10u);
  b.on_taken(7);
  EXPECT_EQ(b.room(), 3u);
  b.on_taken(3);
  EXPECT_EQ(b.room(), 0u);
  EXPECT_EQ(b.max_seen(), 10u);
}

TEST(mailbox_bound, a_full_actor_with_a_backlog_pauses_once) {
  mailbox_bound b(10, 5);
  b.on_taken(10);
  EXPECT_EQ(b.evaluate(true, 0s), action::pause);
  EXPECT_TRUE(b.paused());
  EXPECT_EQ(b.on_finished(1), action::none);
  b.on_taken(1);
  EXPECT_EQ(b.evaluate(true, 0s), action::none) << "already paused: no second pause";
}

TEST(mailbox_bound, a_full_actor_without_backlog_does_not_pause) {
  mailbox_bound b(10, 5);
  b.on_taken(10);
  EXPECT_EQ(b.evaluate(false, 1h), action::none);
  EXPECT_FALSE(b.paused());
}

TEST(mailbox_bound, an_actor_with_room_does_not_pause) {
  mailbox_bound b(10, 5);
  b.on_taken(9);
  EXPECT_EQ(b.evaluate(true, 1h), action::none);
}

TEST(mailbox_bound, a_full_actor_pauses_only_once_its_oldest_record_waited_pause_after) {
  mailbox_bound b(10, 5, 100ms);
  b.on_taken(10);
  for (std::size_t i = 0; i < mailbox_bound::late_slices; ++i) b.on_slice_ended(true);
  EXPECT_EQ(b.evaluate(true, 99ms), action::none) << "draining fast: pausing would only cost";
  EXPECT_EQ(b.evaluate(true, 100ms), action::pause);
}

TEST(mailbox_bound, only_an_actor_whose_slices_end_late_in_a_row_pauses) {
  // An actor that finishes its records in its slices waits for its turn on
  // a shared worker, not for its handler.
  mailbox_bound b(10, 5, 100ms);
  b.on_taken(10);
  EXPECT_EQ(b.evaluate(true, 1h), action::none) << "no slice yet";
  for (std::size_t i = 1; i < mailbox_bound::late_slices; ++i) b.on_slice_ended(true);
  b.on_slice_ended(false);
  b.on_slice_ended(true);
  EXPECT_EQ(b.evaluate(true, 1h), action::none) << "late slices, but not enough in a row";
  for (std::size_t i = 1; i < mailbox_bound::late_slices; ++i) b.on_slice_ended(true);
  EXPECT_EQ(b.evaluate(true, 99ms), action::none) << "behind, but not waited pause_after";
  EXPECT_EQ(b.evaluate(true, 100ms), action::pause) << "its handler fell behind";
}

TEST(mailbox_bound, pause_after_zero_pauses_as_soon_as_full) {
  mailbox_bound b(10, 5, 0ms);
  b.on_taken(10);
  EXPECT_EQ(b.evaluate(true, 0s), action::pause) << "before any slice";
}

TEST(mailbox_bound, resumes_only_below_the_low_mark) {
  mailbox_bound b(10, 5);
  b.on_taken(10);
  ASSERT_EQ(b.evaluate(true, 0s), action::pause);
  EXPECT_EQ(b.on_finished(5), action::none);  // 5 held: not below 5
  EXPECT_TRUE(b.paused());
  EXPECT_EQ(b.on_finished(1), action::resume);  // 4 held
  EXPECT_FALSE(b.paused());
  EXPECT_EQ(b.on_finished(4), action::none);
}

TEST(mailbox_bound, default_low_mark_is_half_the_capacity) {
  EXPECT_EQ(mailbox_bound(10, 0).resume_below(), 5u);
  EXPECT_EQ(mailbox_bound(1, 0).resume_below(), 1u);
  EXPECT_EQ(mailbox_bound(10, 50).resume_below(), 10u) << "clamped to the capacity";
}

TEST(mailbox_bound, dropping_records_frees_room_without_resuming) {
  mailbox_bound b(4, 2);
  b.on_taken(4);
  ASSERT_EQ(b.evaluate(true, 0s), action::pause);
  b.on_dropped(4);
  EXPECT_EQ(b.in_flight(), 0u);
  EXPECT_EQ(b.room(), 4u);
}

TEST(mailbox_bound, a_byte_share_bounds_the_room_by_the_last_records_size) {
  std::atomic<std::size_t> share{1000};
  mailbox_bound b(100, 0, {}, &share);
  EXPECT_EQ(b.room(), 1u) << "no record size known yet: one record";
  b.on_taken(1, 100);
  EXPECT_EQ(b.room(), 9u) << "900 bytes left at 100 a record";
  b.on_taken(9, 900);
  EXPECT_EQ(b.room(), 0u) << "at the share";
  EXPECT_EQ(b.on_finished(2, 200), action::none);
  EXPECT_EQ(b.room(), 2u);
  EXPECT_EQ(b.in_flight_bytes(), 800u);
}

TEST(mailbox_bound, under_its_share_an_actor_takes_at_least_one_record) {
  std::atomic<std::size_t> share{1000};
  mailbox_bound b(100, 0, {}, &share);
  b.on_taken(1, 900);
  EXPECT_EQ(b.room(), 1u) << "100 bytes left, records of 900: still one";
  b.on_taken(1, 900);
  EXPECT_EQ(b.room(), 0u);
}

TEST(mailbox_bound, the_count_still_bounds_small_records) {
  std::atomic<std::size_t> share{1 << 20};
  mailbox_bound b(10, 0, {}, &share);
  b.on_taken(1, 10);
  EXPECT_EQ(b.room(), 9u);
}

TEST(mailbox_bound, the_room_follows_a_re_divided_share) {
  std::atomic<std::size_t> share{1000};
  mailbox_bound b(100, 0, {}, &share);
  b.on_taken(5, 500);
  EXPECT_EQ(b.room(), 5u);
  share = 400;  // the group took on more tasks
  EXPECT_EQ(b.room(), 0u) << "over the smaller share: nothing more until under it";
  b.on_finished(2, 200);
  EXPECT_EQ(b.room(), 1u);
  share = 4000;
  EXPECT_EQ(b.room(), 37u);
}

TEST(mailbox_bound, full_by_bytes_pauses_and_resumes_under_half_the_share) {
  std::atomic<std::size_t> share{1000};
  mailbox_bound b(100, 0, {}, &share);
  b.on_taken(10, 1000);
  EXPECT_EQ(b.evaluate(true, 0s), action::pause);
  EXPECT_EQ(b.on_finished(5, 500), action::none) << "half the share held: not under it";
  EXPECT_EQ(b.on_finished(1, 100), action::resume);
}
