// The partition actor on CAF's deterministic test scheduler: a fake source
// stands in for the partition's librdkafka queue and a fake sink for the
// producer, so the bound, pause/resume, offset storing and the stop protocol
// are checked step by step with no broker and no sleeps.

#include "actors/partition_actor.hpp"

#include <deque>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <caf/all.hpp>

namespace {

using namespace kactor;
using namespace kactor::detail;

/// A partition whose records are in memory. While paused it hands out nothing,
/// as librdkafka drops prefetched records of a paused partition.
class fake_source final : public partition_source {
 public:
  explicit fake_source(int records) {
    for (int i = 0; i < records; ++i) {
      keys.push_back("k" + std::to_string(i));
      values.push_back("v" + std::to_string(i));
    }
  }

  std::size_t take(std::size_t max, std::deque<record_slot>& out) override {
    ++take_calls;
    if (paused) return 0;
    std::size_t n = 0;
    for (; n < max && next < static_cast<int>(keys.size()) + static_cast<int>(extra.size()); ++n) {
      auto off = next < static_cast<int>(keys.size()) ? next : extra[next - keys.size()];
      auto idx = static_cast<std::size_t>(off);
      out.push_back(record_slot{
          event{"in", partition_id{0}, kactor::offset{off}, 0, keys[idx], values[idx]}, nullptr});
      ++next;
    }
    return n;
  }
  bool has_backlog() override {
    return next < static_cast<int>(keys.size()) + static_cast<int>(extra.size());
  }
  void pause() override {
    paused = true;
    ++pauses;
  }
  void resume() override {
    paused = false;
    ++resumes;
  }
  void store(kactor::offset next_offset) override { stored.push_back(next_offset.value()); }

  std::vector<std::string> keys, values;
  std::vector<std::int64_t> extra;  // offsets handed out again after the log's end
  int next = 0;
  bool paused = false;
  int pauses = 0, resumes = 0, take_calls = 0;
  std::vector<std::int64_t> stored;
};

class fake_sink final : public emit_sink {
 public:
  void emit(std::string_view topic, partition_id, std::string_view key, std::string_view value,
            const headers&, delivery_tracker::entry* token) override {
    if (fail_next) {
      fail_next = false;
      throw kafka_exception(error_info{error_class::irrecoverable, 10, "too large"});
    }
    sent.push_back({std::string(topic), std::string(key), std::string(value)});
    tokens.push_back(token);
  }
  struct sent_record {
    std::string topic, key, value;
  };
  std::vector<sent_record> sent;
  std::vector<delivery_tracker::entry*> tokens;
  bool fail_next = false;
};

struct fixture : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<fake_source> source;
  fake_sink sink;
  std::shared_ptr<partition_counters> counters = std::make_shared<partition_counters>();
  std::vector<std::int64_t> handled;

  fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  caf::actor spawn(int records, std::size_t capacity, std::size_t resume_below,
                   behavior_factory f = {}, std::chrono::microseconds slice = {}) {
    source = std::make_shared<fake_source>(records);
    partition_actor_config pc;
    pc.agent = "test";
    pc.tp = topic_partition{"in", partition_id{0}};
    pc.max_poll_records = capacity;
    pc.resume_below = resume_below;
    pc.factory = f ? std::move(f) : [this](context&) -> caf::behavior {
      return {[this](const event& e) { handled.push_back(e.offset().value()); }};
    };
    pc.source = source;
    pc.sink = &sink;
    pc.counters = counters;
    pc.slice = slice;
    return spawn_partition_actor(*sys, std::move(pc));
  }

  /// Runs one message of the (only) actor.
  void step() { sched->run_once(); }
};

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
  delivery_tracker::delivered(sink.tokens[2], true);
  delivery_tracker::delivered(sink.tokens[3], true);
  delivery_tracker::delivered(sink.tokens[0], true);
  sched->run();
  EXPECT_TRUE(source->stored.empty()) << "record 0 still has an unacknowledged emit";
  delivery_tracker::delivered(sink.tokens[1], true);
  sched->run();
  ASSERT_FALSE(source->stored.empty());
  EXPECT_EQ(source->stored.back(), 2) << "records 0 and 1 finished: next offset 2";
  delivery_tracker::delivered(sink.tokens[4], false);  // a failed delivery still finishes
  delivery_tracker::delivered(sink.tokens[5], true);
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
    return caf::behavior{[&](std::int64_t next) { reply = next; }};
  });
  // The test scheduler keeps running a busy actor; let the probe send first.
  ASSERT_TRUE(sched->prioritize(probe));
  step();
  sched->run();
  EXPECT_EQ(reply, -2) << "no reply while emits are unacknowledged";
  EXPECT_EQ(sink.sent.size(), 2u) << "stop overtook the held records";
  delivery_tracker::delivered(sink.tokens[0], true);
  delivery_tracker::delivered(sink.tokens[1], true);
  sched->run();
  EXPECT_EQ(reply, 2) << "next offset after the last finished record";
  EXPECT_EQ(source->next, 10) << "took nothing after stop";
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, a_failing_handler_does_not_stop_the_partition) {
  auto a = spawn(
      6, 10, 0,
      [this](context&) -> caf::behavior {
        return {[this](const event& e) {
          handled.push_back(e.offset().value());
          if (e.offset().value() == 1) throw irrecoverable_error("declined");
          if (e.offset().value() == 3) throw std::runtime_error("boom");
        }};
      },
      std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  EXPECT_EQ(handled.size(), 6u);
  EXPECT_EQ(counters->failed.load(), 2u);
  EXPECT_EQ(counters->processed.load(), 4u);
  EXPECT_EQ(source->stored.back(), 6);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, an_emit_refused_at_once_fails_only_its_record) {
  auto a = spawn(
      2, 10, 0,
      [](context& ctx) -> caf::behavior {
        return {[&ctx](const event& e) { ctx.emit("out", e.key(), e.value()); }};
      },
      std::chrono::hours(1));
  sink.fail_next = true;
  caf::anon_send(a, wake_atom::value);
  sched->run();
  EXPECT_EQ(counters->failed.load(), 1u);
  ASSERT_EQ(sink.tokens.size(), 1u);
  delivery_tracker::delivered(sink.tokens[0], true);
  sched->run();
  EXPECT_EQ(source->stored.back(), 2) << "the refused emit left no outstanding count";
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
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
  pc.tp = topic_partition{"in", partition_id{0}};
  pc.tick_every = std::chrono::milliseconds(100);
  pc.factory = [&](context&) -> caf::behavior {
    return {[&](const event&) {}, [&](tick_atom) { ++ticks; }};
  };
  pc.source = source;
  pc.sink = &sink;
  pc.counters = counters;
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

}  // namespace
