// The fetch gate: at most its slots' worth of partitions fetch at once, the
// others wait in line and get their turns in order; a turn ends only when
// someone waits, and a partition keeps its slot while it still hands out
// records of its last fetch. Given the queues' bytes, the slots follow what
// the fetching partitions hold.

#include "src/kafka/fetch_gate.hpp"

#include <memory>
#include <random>
#include <utility>
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
  /// What librdkafka would queue for it.
  std::uint64_t bytes = 0;
  std::uint64_t queued_bytes() const override { return bytes; }

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

constexpr std::uint64_t MiB = 1024 * 1024;

/// A gate of `slots` in the worst case, adapting to 64 MiB of queues.
fetch_gate adapting(std::size_t slots) {
  return fetch_gate(slots, {}, std::chrono::hours(1), 64 * MiB);
}

TEST(fetch_gate, given_the_queues_bytes_lets_every_partition_fetch_at_first) {
  auto gate = adapting(2);
  auto ps = join(gate, 8);
  EXPECT_EQ(unpaused(ps), 8);
  EXPECT_FALSE(gate.contended()) << "nobody waits, so no turn ends";
  EXPECT_FALSE(gate.end_turn(*ps[0], false));
  for (auto& p : ps) p->bytes = MiB;  // 8 MiB held: under a quarter
  gate.adapt();
  EXPECT_EQ(unpaused(ps), 8);
}

TEST(fetch_gate, stops_those_holding_most_when_a_quarter_of_the_queues_is_held) {
  auto gate = adapting(2);
  auto ps = join(gate, 8);
  // Handlers turned slow: 4 MiB queued for 3, 4, 5 and 6; 512 KiB for the others.
  for (std::size_t i = 0; i < 8; ++i) ps[i]->bytes = (i >= 3 && i <= 6) ? 4 * MiB : MiB / 2;
  // 18 MiB held: over a quarter (16 MiB). Three of 4 MiB stop and 6 is left,
  // under an eighth (8 MiB).
  gate.adapt();
  EXPECT_EQ(gate.slots(), 5u);
  EXPECT_EQ(unpaused(ps), 5) << "those holding most stop at once";
  EXPECT_EQ(unpaused(ps) - (ps[3]->unpaused + ps[4]->unpaused + ps[5]->unpaused + ps[6]->unpaused),
            4)
      << "the ones holding 512 KiB go on";
  EXPECT_EQ(gate.waiting_count(), 3u) << "and wait in line";
  EXPECT_TRUE(gate.contended()) << "others wait: turns end";
  ASSERT_TRUE(gate.end_turn(*ps[0], false));
  EXPECT_FALSE(ps[0]->unpaused);
  EXPECT_EQ(unpaused(ps), 5) << "0's slot went to the line's first";
  for (auto& p : ps) p->bytes = 30 * MiB;
  gate.adapt();
  EXPECT_EQ(gate.slots(), 2u) << "never fewer than the worst case's slots";
  EXPECT_EQ(unpaused(ps), 2);
}

TEST(fetch_gate, lets_twice_as_many_fetch_while_those_fetching_hold_under_a_sixteenth) {
  auto gate = adapting(2);
  auto ps = join(gate, 8);
  for (auto& p : ps) p->bytes = 30 * MiB;
  gate.adapt();
  ASSERT_EQ(unpaused(ps), 2);
  for (auto& p : ps) p->bytes = MiB;  // 2 MiB held: under a sixteenth (4 MiB)
  gate.adapt();
  EXPECT_EQ(gate.slots(), 4u);
  EXPECT_EQ(unpaused(ps), 4);
  gate.adapt();  // 4 MiB held: not under a sixteenth
  EXPECT_EQ(gate.slots(), 4u);
  for (auto& p : ps) p->bytes = MiB / 4;
  gate.adapt();
  EXPECT_EQ(unpaused(ps), 8);
  EXPECT_EQ(gate.waiting_count(), 0u);
  EXPECT_FALSE(gate.contended());
}

TEST(fetch_gate, without_the_queues_bytes_keeps_its_slots) {
  fetch_gate gate(2, {});
  auto ps = join(gate, 8);
  for (auto& p : ps) p->bytes = 0;
  gate.adapt();
  EXPECT_EQ(gate.slots(), 2u);
  EXPECT_EQ(unpaused(ps), 2);
}

/// Random pauses, resumes, ended turns with and without held records,
/// partitions catching up, rotations, and partitions leaving and joining;
/// with `adapt`, also partitions taking records, their queues' bytes
/// changing and the slots adapting. No partition starts fetching beyond
/// `slots()` (more may fetch after the slots shrank), never fewer
/// than `base` slots, the gate's count agrees with what the partitions were
/// told, and when everyone only ends turns, each waiting partition fetches
/// within a round. Returns whether the slots ever grew and ever shrank.
std::pair<bool, bool> walk(fetch_gate& gate, std::size_t base, bool adapt, unsigned seed) {
  constexpr int n = 10;
  auto ps = join(gate, n);
  std::vector<bool> holding(n, false);
  std::mt19937 rng(seed);
  bool grew = false, shrank = false;
  for (int step = 0; step < 20000; ++step) {
    const auto slots = gate.slots();
    const auto before = unpaused(ps);
    const auto i = static_cast<std::size_t>(rng() % n);
    auto& p = *ps[i];
    switch (rng() % (adapt ? 10 : 8)) {
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
      case 7:
        gate.leave(p);
        ps[i] = std::make_unique<fake_partition>();
        holding[i] = false;
        gate.join(*ps[i]);
        break;
      case 8:
        p.bytes = (rng() % 4 == 0 ? rng() % 32 : 0) * MiB;
        break;
      default:
        gate.adapt();
        break;
    }
    grew = grew || gate.slots() > slots;
    shrank = shrank || gate.slots() < slots;
    // After adapt shrank the slots, more may fetch than there are slots
    // until their turns end, but none starts then.
    if (unpaused(ps) > before)
      EXPECT_LE(static_cast<std::size_t>(unpaused(ps)), gate.slots()) << "step " << step;
    EXPECT_GE(gate.slots(), base) << "step " << step;
    EXPECT_EQ(static_cast<std::size_t>(unpaused(ps)), gate.fetching_count()) << "step " << step;
    for (const auto& q : ps) EXPECT_EQ(q->unpaused, q->fetching()) << "step " << step;
    if (::testing::Test::HasFailure()) break;
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
  return {grew, shrank};
}

TEST(fetch_gate, never_lets_more_than_its_slots_fetch_and_every_waiting_partition_gets_turns) {
  fetch_gate gate(3, {});
  EXPECT_EQ(walk(gate, 3, false, 15), std::make_pair(false, false));
}

TEST(fetch_gate, adapting_keeps_to_its_slots_never_below_the_worst_cases_and_gives_turns) {
  auto gate = adapting(3);
  EXPECT_EQ(walk(gate, 3, true, 16), std::make_pair(true, true)) << "grew, and shrank again";
}

}  // namespace
