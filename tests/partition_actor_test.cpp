// The partition actor's record loop: the bound, pause/resume, waiting for
// room in the producer, offset storing, the stop protocol, re-delivered
// records, ticks, and tasks of several inputs.

#include "tests/partition_actor_fixture.hpp"

#include "actors/in_flight_budget.hpp"

namespace {

using namespace kactor;
using namespace kactor::test;

TEST_F(fixture, takes_no_more_than_max_poll_records_and_pauses_when_full) {
  auto a = spawn(25, 10, 5);
  caf::anon_send(a, wake_atom::value);
  step();  // wake: take
  EXPECT_EQ(source->next, 10) << "took exactly max_poll_records";
  EXPECT_TRUE(source->paused) << "full with a backlog: partition paused";
  EXPECT_EQ(counters->in_flight.load(), 10u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, takes_again_by_itself_when_room_frees_and_resumes_below_the_low_mark) {
  // One record per turn (zero slice) makes every intermediate state visible.
  auto a = spawn(25, 10, 5);
  caf::anon_send(a, wake_atom::value);
  step();
  ASSERT_TRUE(source->paused);
  for (int i = 0; i < 5; ++i) step();  // 5 handled, 5 held: not below the mark
  EXPECT_TRUE(source->paused);
  EXPECT_EQ(counters->in_flight.load(), 5u);
  step();  // 6th handled: 4 held -> resume, then take without any new wake
  EXPECT_EQ(source->resumes, 1);
  EXPECT_EQ(counters->in_flight.load(), 10u) << "refilled to the bound without a wake";
  sched->run();
  std::vector<std::int64_t> expected(25);
  for (int i = 0; i < 25; ++i) expected[i] = i;
  EXPECT_EQ(handled, expected) << "every record once, in order";
  EXPECT_LE(counters->max_in_flight.load(), 10u);
  EXPECT_EQ(counters->processed.load(), 25u);
  EXPECT_FALSE(source->paused);
  EXPECT_EQ(source->stored.back(), 25);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, holds_no_more_than_its_byte_share_and_more_once_the_share_grows) {
  // Keys and values "k10".."k59", "v10".."v59": held_bytes(3, 3) each.
  const std::size_t record = held_bytes(3, 3);
  in_flight_budget budget(2 * 4 * record);
  budget.divide(2);  // four records a task
  in_flight_share = &budget.share();
  auto a = spawn(60, 100, 0);
  source->next = 10;
  caf::anon_send(a, wake_atom::value);
  for (int i = 0; i < 20; ++i) step();
  ASSERT_GT(handled.size(), 5u);
  EXPECT_LE(counters->max_in_flight.load(), 4u) << "the share, not max_poll_records, bounds";
  budget.divide(1);  // the group gave up the other task: the share doubles
  sched->run();
  EXPECT_GE(counters->max_in_flight.load(), 7u) << "takes up to the larger share";
  EXPECT_LE(counters->max_in_flight.load(), 8u);
  std::vector<std::int64_t> expected;
  for (int i = 10; i < 60; ++i) expected.push_back(i);
  EXPECT_EQ(handled, expected) << "every record once, in order";
  EXPECT_EQ(counters->in_flight.load(), 0u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, a_record_larger_than_the_share_still_passes_one_at_a_time) {
  in_flight_budget budget(10);
  in_flight_share = &budget.share();
  auto a = spawn(5, 100, 0);
  caf::anon_send(a, wake_atom::value);
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(counters->max_in_flight.load(), 1u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, an_emitting_actor_waits_for_room_in_the_producer_instead_of_blocking_in_emit) {
  // One record per turn (zero slice) makes every intermediate state visible.
  auto a = spawn(10, 10, 0, [this](context& ctx) -> caf::behavior {
    return {[this, &ctx](const event& e) {
      handled.push_back(e.offset().value());
      ctx.emit("out", "k", "v");
    }};
  });
  caf::anon_send(a, wake_atom::value);
  step();  // take
  step();  // record 0: its output goes to the producer
  ASSERT_EQ(handled, (std::vector<std::int64_t>{0}));
  sink.full = true;
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0})) << "no record starts while the queue is full";
  EXPECT_EQ(source->pauses, 0) << "waiting for the producer does not pause the partition";
  EXPECT_EQ(sink.room_waiters.size(), 1u) << "it waits for the producer to say it has room";
  sched->trigger_timeouts();
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0})) << "still full: no timer starts a record";
  EXPECT_EQ(sink.room_waiters.size(), 1u) << "one wait, not one per look";
  sink.make_room();
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(sink.sent.size(), 10u);
  ack_all();
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, time_waited_for_room_in_the_producer_does_not_count_towards_pause_after) {
  pause_after = std::chrono::milliseconds(20);
  auto a = spawn(25, 10, 0, [this](context& ctx) -> caf::behavior {
    return {[this, &ctx](const event& e) {
      handled.push_back(e.offset().value());
      ctx.emit("out", "k", "v");
    }};
  });
  caf::anon_send(a, wake_atom::value);
  step();  // take 10: full with a backlog, but no record has waited yet
  step();  // record 0, then one more taken: full again
  ASSERT_EQ(source->pauses, 0);
  sink.full = true;
  sched->run();  // no record starts: it waits for room
  // The held records grow older than pause_after while the producer is full;
  // then it has room again.
  sched->advance_time(2 * pause_after);
  sink.make_room();
  step();  // room: it looks at the bound again, still full with a backlog
  EXPECT_EQ(source->pauses, 0) << "the wait was the producer's: pausing would drop the prefetch";
  sched->run();
  std::vector<std::int64_t> expected(25);
  for (int i = 0; i < 25; ++i) expected[i] = i;
  EXPECT_EQ(handled, expected);
  ack_all();
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, an_offset_is_stored_only_after_every_emit_of_its_record_is_acknowledged) {
  auto a = spawn(
      3, 10, 0,
      [](context& ctx) -> caf::behavior {
        return {[&ctx](const event& e) {
          ctx.emit("out", e.key(), e.value());
          ctx.emit("audit", e.key(), e.value());
        }};
      },
      std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  ASSERT_EQ(sink.sent.size(), 6u);
  EXPECT_TRUE(source->stored.empty()) << "nothing acknowledged yet";
  // Acknowledge record 1's emits and only one of record 0's: nothing may move.
  ack(2, true);
  ack(3, true);
  ack(0, true);
  sched->run();
  EXPECT_TRUE(source->stored.empty()) << "record 0 still has an unacknowledged emit";
  ack(1, true);
  sched->run();
  ASSERT_FALSE(source->stored.empty());
  EXPECT_EQ(source->stored.back(), 2) << "records 0 and 1 finished: next offset 2";
  ack(5, true);
  ack(4, true);
  sched->run();
  EXPECT_EQ(source->stored.back(), 3);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, stop_drops_unhandled_records_waits_for_acks_and_reports_the_next_offset) {
  auto a = spawn(20, 10, 0, [](context& ctx) -> caf::behavior {
    return {[&ctx](const event& e) { ctx.emit("out", e.key(), e.value()); }};
  });
  caf::anon_send(a, wake_atom::value);
  step();  // take 10
  step();  // handle record 0
  step();  // handle record 1
  std::int64_t reply = -2;
  auto probe = sys->spawn([&](caf::event_based_actor* self) {
    self->send<caf::message_priority::high>(a, stop_atom::value);
    return caf::behavior{[&](const lane_offsets& next) { reply = next.next.at(0).value(); }};
  });
  // The test scheduler keeps running a busy actor; let the probe send first.
  ASSERT_TRUE(sched->prioritize(probe));
  step();
  sched->run();
  EXPECT_EQ(reply, -2) << "no reply while emits are unacknowledged";
  EXPECT_EQ(sink.sent.size(), 2u) << "stop overtook the held records";
  ack(0, true);
  ack(1, true);
  sched->run();
  EXPECT_EQ(reply, 2) << "next offset after the last finished record";
  EXPECT_EQ(source->next, 10) << "took nothing after stop";
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, records_delivered_twice_by_the_client_are_handled_once) {
  auto a = spawn(3, 10, 0, {}, std::chrono::hours(1));
  source->extra = {1, 2};  // librdkafka re-delivers offsets 1 and 2
  caf::anon_send(a, wake_atom::value);
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(counters->duplicates_dropped.load(), 2u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, a_behaviour_keeps_state_and_receives_ticks) {
  int ticks = 0;
  partition_actor_config pc;
  source = std::make_shared<fake_source>(0);
  pc.agent = "t";
  pc.inputs = {{topic_partition{"in", partition_id{0}}, counters}};
  pc.tick_every = std::chrono::milliseconds(100);
  pc.factory = [&](context&) -> caf::behavior {
    return {[&](const event&) {}, [&](tick_atom) { ++ticks; }};
  };
  pc.source = source;
  pc.sink = &sink;
  auto a = spawn_partition_actor(*sys, std::move(pc));
  sched->run();
  sched->advance_time(std::chrono::milliseconds(100));
  sched->run();
  sched->advance_time(std::chrono::milliseconds(100));
  sched->run();
  EXPECT_EQ(ticks, 2);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

/// A task of two inputs: records of lane 0 ("a", offsets from 0) and lane 1
/// ("b", offsets from 100), interleaved as a merged source hands them out.
class two_lane_source final : public partition_source {
 public:
  std::size_t take(std::size_t max, std::deque<record_slot>& out) override {
    std::size_t n = 0;
    for (; n < max && !records.empty(); ++n) {
      const auto [lane, off] = records.front();
      records.pop_front();
      out.push_back(record_slot{
          event{lane == 0 ? "a" : "b", partition_id{4}, kactor::offset{off}, 0, "k", "v"},
          {nullptr, [](void*) {}},
          {},
          lane});
    }
    return n;
  }
  bool has_backlog() override { return !records.empty(); }
  void pause() override {}
  void resume() override {}
  void store(std::uint32_t lane, kactor::offset next) override {
    stored[lane].push_back(next.value());
  }
  void rewind(std::uint32_t, kactor::offset) override {}

  std::deque<std::pair<std::uint32_t, std::int64_t>> records{{0, 0}, {1, 100}, {0, 1}, {1, 101}};
  std::vector<std::int64_t> stored[2];
};

TEST_F(fixture, a_task_of_two_inputs_stores_and_reports_each_inputs_own_offsets) {
  auto src = std::make_shared<two_lane_source>();
  auto counters_b = std::make_shared<partition_counters>();
  std::vector<std::string> sources;
  partition_actor_config pc;
  pc.agent = "t";
  pc.inputs = {{topic_partition{"a", partition_id{4}}, counters},
               {topic_partition{"b", partition_id{4}}, counters_b}};
  pc.max_poll_records = 10;
  pc.factory = [&](context& ctx) -> caf::behavior {
    return {[&](const event& e) {
      sources.push_back(ctx.source().topic + "/" + std::to_string(e.offset().value()));
      ctx.emit("out", e.key(), e.value());
    }};
  };
  pc.source = src;
  pc.sink = &sink;
  pc.dead_letters = dead_letters;
  auto a = spawn_partition_actor(*sys, std::move(pc));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  EXPECT_EQ(sources, (std::vector<std::string>{"a/0", "b/100", "a/1", "b/101"}))
      << "one actor handles both inputs, in the source's order; source() names the record's";
  ack(1, true);  // b/100's output: a/0 before it is not finished yet
  sched->run();
  EXPECT_TRUE(src->stored[0].empty());
  EXPECT_TRUE(src->stored[1].empty()) << "an input's offset waits for records begun before";
  ack(0, true);
  sched->run();
  EXPECT_EQ(src->stored[0].back(), 1);
  EXPECT_EQ(src->stored[1].back(), 101);
  EXPECT_EQ(counters->stored_offset.load(), 1);
  EXPECT_EQ(counters_b->stored_offset.load(), 101);
  std::vector<std::int64_t> reply;
  auto probe = sys->spawn([&](caf::event_based_actor* self) {
    self->send<caf::message_priority::high>(a, stop_atom::value);
    return caf::behavior{[&](const lane_offsets& next) {
      for (auto o : next.next) reply.push_back(o.value());
    }};
  });
  ASSERT_TRUE(sched->prioritize(probe));
  step();
  sched->run();
  EXPECT_TRUE(reply.empty()) << "no reply while emits are unacknowledged";
  ack(2, true);
  ack(3, true);
  sched->run();
  EXPECT_EQ(reply, (std::vector<std::int64_t>{2, 102})) << "each input's next offset, by lane";
  EXPECT_EQ(counters->processed.load(), 2u);
  EXPECT_EQ(counters_b->processed.load(), 2u);
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
  sched->run();
}

}  // namespace
