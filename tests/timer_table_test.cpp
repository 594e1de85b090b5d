// Durable timers' bookkeeping over a store: due order, due-ness on virtual
// time, replacing, cancelling, and that a firing takes a timer once.

#include "actors/timer_table.hpp"
#include "tests/memory_store.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kactor::detail {
namespace {

using test::memory_store;

/// The timers due at `now` (virtual time), in the order they fire.
std::vector<std::string> due_at(timer_table& t, std::int64_t now) {
  std::vector<std::string> out;
  t.each([&](const timer& x) {
    if (x.due_ms > now) return false;
    out.push_back(x.name + "/" + x.key + "@" + std::to_string(x.due_ms) + "=" + x.payload);
    return true;
  });
  return out;
}

TEST(timer_table, timers_come_in_due_order_and_only_once_due) {
  memory_store kv;
  timer_table t(kv);
  t.schedule("remind", "b", 3000, "p3");
  t.schedule("remind", "a", 1000, "p1");
  // 256 ms after the first: a due time's bytes compare as numbers, not text.
  t.schedule("expire", "z", 1256, "p2");
  t.schedule("expire", "y", 70'000'000'000, "far");
  EXPECT_TRUE(due_at(t, 999).empty());
  EXPECT_EQ(due_at(t, 1000), (std::vector<std::string>{"remind/a@1000=p1"}));
  EXPECT_EQ(due_at(t, 5000),
            (std::vector<std::string>{"remind/a@1000=p1", "expire/z@1256=p2", "remind/b@3000=p3"}));
  EXPECT_EQ(due_at(t, 70'000'000'000).size(), 4u);
}

TEST(timer_table, same_due_time_orders_by_name_then_key) {
  memory_store kv;
  timer_table t(kv);
  t.schedule("b", "1", 500, "");
  t.schedule("a", "2", 500, "");
  t.schedule("a", "1", 500, "");
  EXPECT_EQ(due_at(t, 500), (std::vector<std::string>{"a/1@500=", "a/2@500=", "b/1@500="}));
}

TEST(timer_table, scheduling_again_replaces_the_pending_timer) {
  memory_store kv;
  timer_table t(kv);
  t.schedule("remind", "a", 1000, "old");
  t.schedule("remind", "a", 4000, "new");
  EXPECT_TRUE(due_at(t, 3999).empty());
  EXPECT_EQ(due_at(t, 4000), (std::vector<std::string>{"remind/a@4000=new"}));
  EXPECT_EQ(t.due("remind", "a"), 4000);
  // The firing meant for the replaced time finds nothing; the new one fires.
  EXPECT_FALSE(t.take("remind", "a", 1000));
  const auto fired = t.take("remind", "a", 4000);
  ASSERT_TRUE(fired);
  EXPECT_EQ(fired->payload, "new");
  EXPECT_TRUE(kv.data.empty());
}

TEST(timer_table, a_timer_is_taken_once) {
  memory_store kv;
  timer_table t(kv);
  t.schedule("remind", "a", 1000, "p");
  EXPECT_TRUE(t.take("remind", "a", 1000));
  EXPECT_FALSE(t.take("remind", "a", 1000));
  EXPECT_FALSE(t.due("remind", "a"));
}

TEST(timer_table, cancel_removes_the_pending_timer_and_says_whether_there_was_one) {
  memory_store kv;
  timer_table t(kv);
  t.schedule("remind", "a", 1000, "p");
  t.schedule("remind", "b", 1000, "p");
  EXPECT_TRUE(t.cancel("remind", "a"));
  EXPECT_FALSE(t.cancel("remind", "a"));
  EXPECT_FALSE(t.take("remind", "a", 1000));
  EXPECT_EQ(due_at(t, 2000), (std::vector<std::string>{"remind/b@1000=p"}));
}

TEST(timer_table, keys_may_hold_any_bytes_and_times_before_the_epoch_clamp) {
  memory_store kv;
  timer_table t(kv);
  const std::string key("k\0\xff", 3);
  t.schedule("n", key, -5, "p");
  std::vector<timer> seen;
  t.each([&](const timer& x) {
    seen.push_back(x);
    return true;
  });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].key, key);
  EXPECT_EQ(seen[0].due_ms, 0);
  EXPECT_TRUE(t.take("n", key, 0));
}

TEST(timer_table, a_name_must_be_text_without_nul) {
  memory_store kv;
  timer_table t(kv);
  EXPECT_THROW(t.schedule("", "k", 1, ""), irrecoverable_error);
  EXPECT_THROW(t.schedule(std::string_view("a\0b", 3), "k", 1, ""), irrecoverable_error);
  EXPECT_TRUE(kv.data.empty());
}

}  // namespace
}  // namespace kactor::detail
