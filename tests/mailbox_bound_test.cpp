#include "actors/mailbox_bound.hpp"

#include <gtest/gtest.h>

using kactor::detail::mailbox_bound;
using action = mailbox_bound::action;

TEST(mailbox_bound, never_offers_more_room_than_the_capacity) {
  mailbox_bound b(10, 5);
  EXPECT_EQ(b.room(), 10u);
  EXPECT_EQ(b.on_taken(7, false), action::none);
  EXPECT_EQ(b.room(), 3u);
  EXPECT_EQ(b.on_taken(3, false), action::none);
  EXPECT_EQ(b.room(), 0u);
  EXPECT_EQ(b.max_seen(), 10u);
}

TEST(mailbox_bound, a_full_actor_with_a_backlog_pauses_once) {
  mailbox_bound b(10, 5);
  EXPECT_EQ(b.on_taken(10, true), action::pause);
  EXPECT_TRUE(b.paused());
  EXPECT_EQ(b.on_finished(1), action::none);
  EXPECT_EQ(b.on_taken(1, true), action::none) << "already paused: no second pause";
}

TEST(mailbox_bound, a_full_actor_without_backlog_does_not_pause) {
  mailbox_bound b(10, 5);
  EXPECT_EQ(b.on_taken(10, false), action::none);
  EXPECT_FALSE(b.paused());
}

TEST(mailbox_bound, resumes_only_below_the_low_mark) {
  mailbox_bound b(10, 5);
  ASSERT_EQ(b.on_taken(10, true), action::pause);
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
  ASSERT_EQ(b.on_taken(4, true), action::pause);
  b.on_dropped(4);
  EXPECT_EQ(b.in_flight(), 0u);
  EXPECT_EQ(b.room(), 4u);
}
