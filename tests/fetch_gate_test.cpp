// The fetch gate: at most its slots' worth of partitions fetch at once, the
// others wait in line and get their turns in order; a turn ends only when
// someone waits, and a partition keeps its slot while it still hands out
// records of its last fetch.

#include "src/kafka/fetch_gate.hpp"

#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace {

using kactor::detail::fetch_gate;

/// A partition that remembers what the gate last told it.
class fake_partition final : public fetch_gate::member {
 public:
  /// What librdkafka would do: fetch (true) or stay paused (false).
  bool unpaused = true;
  int calls = 0;
  /// It took records, so it knows where it stands and can wake the fetcher.
  bool knows_offset = true;
  int nudges = 0;

 protected:
  bool fetch(bool on) override {
    unpaused = on;
    ++calls;
    return knows_offset;
  }
  bool nudge() override {
    nudges += knows_offset ? 1 : 0;
    return knows_offset;
  }
};

std::vector<std::unique_ptr<fake_partition>> join(fetch_gate& gate, int n) {
  std::vector<std::unique_ptr<fake_partition>> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(std::make_unique<fake_partition>());
    gate.join(*out.back());
  }
  return out;
}

int unpaused(const std::vector<std::unique_ptr<fake_partition>>& ps) {
  int n = 0;
  for (const auto& p : ps) n += p->unpaused ? 1 : 0;
  return n;
}

TEST(fetch_gate, lets_its_slots_fetch_and_pauses_the_rest) {
  fetch_gate gate(2, {});
  auto ps = join(gate, 5);
  EXPECT_TRUE(ps[0]->unpaused);
  EXPECT_TRUE(ps[1]->unpaused);
  for (int i = 2; i < 5; ++i) EXPECT_FALSE(ps[i]->unpaused) << i;
  EXPECT_EQ(gate.fetching_count(), 2u);
  EXPECT_EQ(gate.waiting_count(), 3u);
  EXPECT_TRUE(gate.contended());
}

TEST(fetch_gate, a_turn_ends_only_when_another_partition_waits) {
  fetch_gate gate(2, {});
  auto ps = join(gate, 2);
  EXPECT_FALSE(gate.contended());
  EXPECT_FALSE(gate.end_turn(*ps[0], false));
  EXPECT_TRUE(ps[0]->unpaused);
}

TEST(fetch_gate, turns_go_to_the_line_in_order_and_the_ended_turn_queues_behind_it) {
  fetch_gate gate(1, {});
  auto ps = join(gate, 3);  // 0 fetches; 1, 2 wait
  ASSERT_TRUE(gate.end_turn(*ps[0], false));
  EXPECT_FALSE(ps[0]->unpaused);
  EXPECT_TRUE(ps[1]->unpaused);
  ASSERT_TRUE(gate.end_turn(*ps[1], false));
  EXPECT_TRUE(ps[2]->unpaused);
  ASSERT_TRUE(gate.end_turn(*ps[2], false));
  EXPECT_TRUE(ps[0]->unpaused) << "0 waited behind 1 and 2";
  EXPECT_EQ(unpaused(ps), 1);
}

TEST(fetch_gate, a_partition_keeps_its_slot_until_it_handed_out_what_it_fetched) {
  fetch_gate gate(1, {});
  auto ps = join(gate, 2);
  ASSERT_TRUE(gate.end_turn(*ps[0], true));  // it still holds records
  EXPECT_FALSE(ps[0]->unpaused);
  EXPECT_FALSE(ps[1]->unpaused) << "the slot is still 0's";
  gate.update(*ps[0], true, false);  // handed them out
  EXPECT_TRUE(ps[1]->unpaused);
  EXPECT_FALSE(ps[0]->unpaused);
  EXPECT_EQ(gate.waiting_count(), 1u);
}

TEST(fetch_gate, a_caught_up_partition_gives_its_slot_to_one_that_waits) {
  // Its actor takes nothing more (no record comes): the group thread's
  // rotation ends its turn.
  fetch_gate gate(1, {});
  auto ps = join(gate, 2);
  gate.rotate();
  EXPECT_TRUE(ps[0]->unpaused) << "not caught up: it keeps its turn";
  ps[0]->caught_up(true);
  gate.rotate();
  EXPECT_TRUE(ps[1]->unpaused);
  EXPECT_FALSE(ps[0]->unpaused);
  EXPECT_EQ(gate.waiting_count(), 1u) << "0 waits behind";
}

TEST(fetch_gate, a_partition_whose_actor_stopped_taking_gives_its_slot_up) {
  // A retry's backoff, say: the actor takes nothing, so no take ends the
  // turn; the rotation does once it took nothing for the stall time.
  fetch_gate busy(1, {}, std::chrono::hours(1));
  auto ps = join(busy, 2);
  ps[0]->took();
  busy.rotate();
  EXPECT_TRUE(ps[0]->unpaused) << "it took records within the stall time";
  fetch_gate stalled(1, {}, {});
  auto qs = join(stalled, 2);
  stalled.rotate();
  EXPECT_FALSE(qs[0]->unpaused);
  EXPECT_TRUE(qs[1]->unpaused);
}

TEST(fetch_gate, a_turn_lasts_at_least_its_minimum) {
  fetch_gate gate(1, std::chrono::hours(1));
  auto ps = join(gate, 2);
  ps[0]->caught_up(true);
  EXPECT_FALSE(gate.end_turn(*ps[0], false));
  gate.rotate();
  EXPECT_TRUE(ps[0]->unpaused);
  EXPECT_FALSE(ps[1]->unpaused);
}

TEST(fetch_gate, a_partition_that_cannot_wake_the_fetcher_has_one_in_line_wake_it) {
  // librdkafka 2.0.2: a resume alone leaves the fetcher asleep for up to a
  // second; a seek wakes it, but a partition that took nothing has no
  // offset to seek to.
  fetch_gate gate(1, {});
  auto ps = join(gate, 3);
  ps[1]->knows_offset = false;  // 1 waits and never took a record
  ps[2]->knows_offset = false;
  ASSERT_TRUE(gate.end_turn(*ps[0], false));  // 1 starts; 0 goes behind 2
  EXPECT_TRUE(ps[1]->unpaused);
  EXPECT_EQ(ps[0]->nudges, 1) << "0 took records: its seek in place wakes the fetcher";
  ps[1]->knows_offset = true;
  ASSERT_TRUE(gate.end_turn(*ps[1], false));  // 2 starts, and cannot wake it
  EXPECT_EQ(ps[1]->nudges, 1) << "the latest in line, 1, woke it";
  EXPECT_EQ(ps[0]->nudges, 1);
}

TEST(fetch_gate, pausing_frees_the_slot_and_resuming_waits_for_a_turn) {
  fetch_gate gate(1, {});
  auto ps = join(gate, 2);
  gate.update(*ps[0], false, false);  // its actor paused it
  EXPECT_FALSE(ps[0]->unpaused);
  EXPECT_TRUE(ps[1]->unpaused);
  gate.update(*ps[0], true, false);  // resumed: behind 1
  EXPECT_FALSE(ps[0]->unpaused);
  EXPECT_EQ(gate.waiting_count(), 1u);
  // A paused partition waits for nothing and is not in line.
  gate.update(*ps[0], false, false);
  EXPECT_EQ(gate.waiting_count(), 0u);
  EXPECT_FALSE(gate.contended());
}

TEST(fetch_gate, leaving_frees_a_slot_or_a_place_in_line) {
  fetch_gate gate(1, {});
  auto ps = join(gate, 3);
  gate.leave(*ps[1]);  // waiting
  EXPECT_EQ(gate.waiting_count(), 1u);
  const auto calls = ps[1]->calls;
  gate.leave(*ps[0]);  // fetching: its slot goes to 2, not to 1
  EXPECT_TRUE(ps[2]->unpaused);
  EXPECT_EQ(ps[1]->calls, calls) << "no call reaches a partition that left";
  EXPECT_EQ(gate.waiting_count(), 0u);
}

TEST(fetch_gate, never_lets_more_than_its_slots_fetch_and_every_waiting_partition_gets_turns) {
  // Random pauses, resumes, ended turns with and without held records,
  // partitions catching up and rotations, and partitions leaving and joining: at most `slots`
  // fetch, the gate's count agrees with what the partitions were told, and when everyone only ends
  // turns, each waiting partition fetches within a round.
  constexpr int slots = 3, n = 10;
  fetch_gate gate(slots, {});
  auto ps = join(gate, n);
  std::vector<bool> holding(n, false);
  std::mt19937 rng(15);
  for (int step = 0; step < 20000; ++step) {
    const auto i = static_cast<std::size_t>(rng() % n);
    auto& p = *ps[i];
    switch (rng() % 8) {
      case 0:
        gate.update(p, false, holding[i]);
        break;
      case 1:
        gate.update(p, true, holding[i]);
        break;
      case 2:
        holding[i] = gate.end_turn(p, true) || holding[i];
        break;
      case 3:
        gate.end_turn(p, false);
        break;
      case 4:
        holding[i] = false;
        gate.update(p, true, false);
        break;
      case 5:
        p.caught_up(rng() % 2 == 0);
        break;
      case 6:
        gate.rotate();
        break;
      default:
        gate.leave(p);
        ps[i] = std::make_unique<fake_partition>();
        holding[i] = false;
        gate.join(*ps[i]);
        break;
    }
    ASSERT_LE(unpaused(ps), slots) << "step " << step;
    ASSERT_EQ(static_cast<std::size_t>(unpaused(ps)), gate.fetching_count()) << "step " << step;
    for (const auto& q : ps) ASSERT_EQ(q->unpaused, q->fetching()) << "step " << step;
  }
  // Everyone wants to fetch and holds nothing: turns rotate through all.
  for (std::size_t i = 0; i < ps.size(); ++i) gate.update(*ps[i], true, false);
  std::vector<int> turns(n, 0);
  for (int round = 0; round < 2 * n; ++round)
    for (int i = 0; i < n; ++i)
      if (ps[static_cast<std::size_t>(i)]->unpaused) {
        ++turns[static_cast<std::size_t>(i)];
        gate.end_turn(*ps[static_cast<std::size_t>(i)], false);
      }
  for (int i = 0; i < n; ++i) EXPECT_GE(turns[static_cast<std::size_t>(i)], 2) << "partition " << i;
}

}  // namespace
