// The partition actor on CAF's deterministic test scheduler: a fake source
// stands in for the partition's librdkafka queue and a fake sink for the
// producer, so the bound, pause/resume, offset storing and the stop protocol
// are checked step by step with no broker and no sleeps.

#include "actors/partition_actor.hpp"

#include <chrono>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <caf/all.hpp>
#include <kactor/dead_letter.hpp>

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
  void rewind(kactor::offset to) override {
    rewinds.push_back(to.value());
    next = static_cast<int>(to.value());
    paused = false;
  }

  std::vector<std::string> keys, values;
  std::vector<std::int64_t> extra;  // offsets handed out again after the log's end
  int next = 0;
  bool paused = false;
  int pauses = 0, resumes = 0;
  std::vector<std::int64_t> stored;
  std::vector<std::int64_t> rewinds;
};

class fake_sink final : public emit_sink {
 public:
  void emit(std::string_view topic, partition_id, std::string_view key, std::string_view value,
            const headers& hdrs, delivery_tracker::entry* token) override {
    if (refuse > 0) {
      --refuse;
      throw kafka_exception(error_info{classify_kafka_error(refuse_code), refuse_code, "refused"});
    }
    sent.push_back({std::string(topic), std::string(key), std::string(value), hdrs});
    tokens.push_back(token);
  }
  bool saturated() const override { return full; }
  struct sent_record {
    std::string topic, key, value;
    headers hdrs;
    std::string header(std::string_view name) const {
      for (const auto& h : hdrs)
        if (h.key == name) return h.value;
      return "<missing>";
    }
  };
  std::vector<sent_record> sent;
  std::vector<delivery_tracker::entry*> tokens;
  int refuse = 0;                                          // refuse this many emits at once
  int refuse_code = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;  // with this librdkafka error
  bool full = false;                                       // the producer's queue is nearly full
};

struct fixture : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<fake_source> source;
  fake_sink sink;
  std::shared_ptr<partition_counters> counters = std::make_shared<partition_counters>();
  std::vector<std::int64_t> handled;
  supervision_policy policy;
  std::chrono::milliseconds pause_after{0};
  caf::actor dead_letters;
  /// Shared by the actors spawned, as by one partition's successive actors.
  std::shared_ptr<poison_map> poison = std::make_shared<poison_map>();

  fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    policy.max_retries = 3;
    policy.backoff_base = std::chrono::milliseconds(100);
    policy.backoff_max = std::chrono::milliseconds(1000);
    dead_letters = spawn_dead_letter_actor(*sys, "test.dlq", sink);
    sched->run();  // let it initialise, so step() runs the partition actor
  }

  ~fixture() override {
    ack_all(false);  // what librdkafka would report for records still in flight
    caf::anon_send_exit(dead_letters, caf::exit_reason::user_shutdown);
    sched->run();
  }

  /// Acknowledges (or fails, as librdkafka does when a record times out)
  /// the i-th emit handed to the sink.
  void ack(std::size_t i, bool ok) { fail(i, ok ? 0 : RD_KAFKA_RESP_ERR__MSG_TIMED_OUT); }

  /// Reports the i-th emit with librdkafka error `code` (0: acknowledged).
  void fail(std::size_t i, int code) {
    delivery_tracker::delivered(std::exchange(sink.tokens.at(i), nullptr), code, "test");
  }

  /// Acknowledges (or times out) every emit handed to the sink so far.
  void ack_all(bool ok = true) {
    for (auto*& t : sink.tokens)
      if (t)
        delivery_tracker::delivered(std::exchange(t, nullptr),
                                    ok ? 0 : RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "test");
    sched->run();
  }

  caf::actor spawn(int records, std::size_t capacity, std::size_t resume_below,
                   behavior_factory f = {}, std::chrono::microseconds slice = {}) {
    source = std::make_shared<fake_source>(records);
    partition_actor_config pc;
    pc.agent = "test";
    pc.tp = topic_partition{"in", partition_id{0}};
    pc.max_poll_records = capacity;
    pc.resume_below = resume_below;
    pc.pause_after = pause_after;
    pc.factory = f ? std::move(f) : [this](context&) -> caf::behavior {
      return {[this](const event& e) { handled.push_back(e.offset().value()); }};
    };
    pc.source = source;
    pc.sink = &sink;
    pc.counters = counters;
    pc.slice = slice;
    pc.policy = policy;
    pc.dead_letters = dead_letters;
    pc.poison = poison;
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
  sched->trigger_timeouts();
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0})) << "still full: it looks again later";
  sink.full = false;
  sched->trigger_timeouts();
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
  // then the room timer fires.
  sink.full = false;
  sched->advance_time(2 * pause_after);
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

TEST_F(fixture, an_output_the_producer_gave_up_on_keeps_its_offset_and_fails_the_actor) {
  auto a = spawn(
      3, 10, 0,
      [](context& ctx) -> caf::behavior {
        return {[&ctx](const event& e) { ctx.emit("out", e.key(), e.value()); }};
      },
      std::chrono::hours(1));
  caf::error exit_reason;
  bool exited = false;
  caf::actor_cast<caf::abstract_actor*>(a)->attach_functor([&](const caf::error& reason) {
    exit_reason = reason;
    exited = true;
  });
  caf::anon_send(a, wake_atom::value);
  sched->run();
  ASSERT_EQ(sink.sent.size(), 3u);
  ack(0, true);
  ack(1, false);  // message.timeout.ms passed for record 1's output
  ack(2, true);
  sched->run();
  ASSERT_FALSE(source->stored.empty());
  EXPECT_EQ(source->stored.back(), 1) << "stored up to record 1, never past it";
  EXPECT_TRUE(exited) << "the actor fails, so its supervisor restarts it from offset 1";
  EXPECT_NE(caf::to_string(exit_reason).find("in/0@1 was not delivered"), std::string::npos)
      << caf::to_string(exit_reason);
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
  ack(0, true);
  ack(1, true);
  sched->run();
  EXPECT_EQ(reply, 2) << "next offset after the last finished record";
  EXPECT_EQ(source->next, 10) << "took nothing after stop";
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture,
       an_irrecoverable_record_goes_to_the_dead_letter_topic_at_once_and_the_partition_goes_on) {
  auto a = spawn(
      4, 10, 0,
      [this](context&) -> caf::behavior {
        return {[this](const event& e) {
          handled.push_back(e.offset().value());
          if (e.offset().value() == 1) throw irrecoverable_error("payment declined");
        }};
      },
      std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2, 3})) << "one attempt, no retry";
  ASSERT_EQ(sink.sent.size(), 1u);
  const auto& dlq = sink.sent[0];
  EXPECT_EQ(dlq.topic, "test.dlq");
  EXPECT_EQ(dlq.key, "k1");
  EXPECT_EQ(dlq.value, "v1");
  EXPECT_EQ(dlq.header(dlq_header::source_topic), "in");
  EXPECT_EQ(dlq.header(dlq_header::source_partition), "0");
  EXPECT_EQ(dlq.header(dlq_header::source_offset), "1");
  EXPECT_EQ(dlq.header(dlq_header::agent), "test");
  EXPECT_EQ(dlq.header(dlq_header::error_class), "irrecoverable");
  EXPECT_EQ(dlq.header(dlq_header::error_message), "payment declined");
  EXPECT_EQ(dlq.header(dlq_header::attempts), "1");
  EXPECT_NE(dlq.header(dlq_header::first_failure_ms), "<missing>");
  EXPECT_EQ(dlq.header(dlq_header::first_failure_ms), dlq.header(dlq_header::last_failure_ms));
  EXPECT_EQ(source->stored.back(), 1) << "not past the record until its DLQ write is acked";
  ack_all();
  EXPECT_EQ(source->stored.back(), 4);
  EXPECT_EQ(counters->dead_lettered.load(), 1u);
  EXPECT_EQ(counters->processed.load(), 3u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, a_retriable_failure_is_retried_after_a_backoff_while_the_partition_waits) {
  int failures_left = 2;
  auto a = spawn(
      3, 10, 0,
      [&](context&) -> caf::behavior {
        return {[&](const event& e) {
          handled.push_back(e.offset().value());
          if (e.offset().value() == 1 && failures_left-- > 0)
            throw std::runtime_error("service unavailable");
        }};
      },
      std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1})) << "record 2 waits: order is kept";
  EXPECT_FALSE(sched->advance_time(std::chrono::milliseconds(49)))
      << "the first backoff is at least base/2";
  sched->advance_time(std::chrono::milliseconds(51));
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 1}));
  sched->advance_time(std::chrono::milliseconds(200));  // second backoff <= 2 * base
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 1, 1, 2}));
  EXPECT_EQ(counters->retries.load(), 2u);
  EXPECT_EQ(counters->processed.load(), 3u);
  EXPECT_TRUE(sink.sent.empty()) << "succeeded within its retries: no dead letter";
  EXPECT_EQ(source->stored.back(), 3);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, a_record_that_keeps_failing_goes_to_the_dead_letter_topic_after_max_retries) {
  auto a = spawn(
      2, 10, 0,
      [this](context&) -> caf::behavior {
        return {[this](const event& e) {
          handled.push_back(e.offset().value());
          if (e.offset().value() == 0) throw std::runtime_error("timeout calling risk API");
        }};
      },
      std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  for (int i = 0; i < 3; ++i) {
    sched->advance_time(policy.backoff_max);
    sched->run();
  }
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 0, 0, 0, 1})) << "1 attempt + 3 retries";
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0].header(dlq_header::error_class), "retriable");
  EXPECT_EQ(sink.sent[0].header(dlq_header::attempts), "4");
  EXPECT_EQ(sink.sent[0].header(dlq_header::error_message), "timeout calling risk API");
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, a_failed_dead_letter_write_blocks_the_partition_and_is_written_again) {
  auto a = spawn(
      3, 10, 0,
      [this](context&) -> caf::behavior {
        return {[this](const event& e) {
          handled.push_back(e.offset().value());
          if (e.offset().value() == 0) throw irrecoverable_error("bad");
        }};
      },
      std::chrono::hours(1));
  sink.refuse = 1;  // librdkafka refuses the first DLQ write at once: its queue is full
  sink.refuse_code = RD_KAFKA_RESP_ERR__QUEUE_FULL;
  caf::anon_send(a, wake_atom::value);
  sched->run();
  EXPECT_TRUE(sink.sent.empty());
  sched->advance_time(policy.backoff_max);
  sched->run();
  ASSERT_EQ(sink.sent.size(), 1u) << "written again after the backoff";
  ack_all(false);  // ...and this time the broker fails the delivery
  EXPECT_TRUE(source->stored.empty() || source->stored.back() == 0)
      << "never past a record whose dead letter is not written";
  sched->advance_time(policy.backoff_max);
  sched->run();
  ASSERT_EQ(sink.sent.size(), 2u) << "a third write after the failed delivery";
  ack_all(true);
  EXPECT_EQ(counters->dead_lettered.load(), 1u);
  EXPECT_EQ(source->stored.back(), 3);
  EXPECT_EQ(handled.size(), 3u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, an_emit_refused_at_once_is_classified_and_its_record_dead_lettered) {
  auto a = spawn(
      2, 10, 0,
      [](context& ctx) -> caf::behavior {
        return {[&ctx](const event& e) { ctx.emit("out", e.key(), e.value()); }};
      },
      std::chrono::hours(1));
  sink.refuse = 1;  // the handler's emit of record 0: too large, irrecoverable
  caf::anon_send(a, wake_atom::value);
  sched->run();
  ASSERT_EQ(sink.sent.size(), 2u);
  // Record 1's emit reaches the sink before record 0's dead letter, which
  // goes through the dead-letter actor.
  EXPECT_EQ(sink.sent[0].topic, "out");
  EXPECT_EQ(sink.sent[0].key, "k1");
  EXPECT_EQ(sink.sent[1].topic, "test.dlq");
  EXPECT_EQ(sink.sent[1].key, "k0");
  EXPECT_EQ(sink.sent[1].header(dlq_header::error_class), "irrecoverable");
  ack_all();
  EXPECT_EQ(source->stored.back(), 2) << "the refused emit left no outstanding count";
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

/// A handler that fails record 0 for good and handles the others.
behavior_factory failing_first(std::vector<std::int64_t>& handled) {
  return [&handled](context&) -> caf::behavior {
    return {[&handled](const event& e) {
      handled.push_back(e.offset().value());
      if (e.offset().value() == 0) throw irrecoverable_error("malformed");
    }};
  };
}

TEST_F(fixture, a_dead_letter_too_large_for_the_topic_is_written_again_in_a_smaller_form) {
  auto a = spawn(3, 10, 0, failing_first(handled), std::chrono::hours(1));
  sink.refuse = 1;  // librdkafka refuses the full form at once: over message.max.bytes
  caf::anon_send(a, wake_atom::value);
  sched->run();
  ASSERT_EQ(sink.sent.size(), 1u) << "written again at once, no backoff";
  EXPECT_EQ(sink.sent[0].header(dlq_header::value_omitted), "true");
  EXPECT_EQ(sink.sent[0].header(dlq_header::value_size), "2");
  EXPECT_EQ(sink.sent[0].value, "");
  EXPECT_EQ(sink.sent[0].key, "k0");
  fail(0, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);  // the broker's limit is lower still
  sched->run();
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_EQ(sink.sent[1].header(dlq_header::key_omitted), "true");
  EXPECT_EQ(sink.sent[1].header(dlq_header::source_offset), "0");
  EXPECT_EQ(sink.sent[1].header(dlq_header::degraded_because), "test");
  EXPECT_TRUE(source->stored.empty() || source->stored.back() == 0);
  ack(1, true);
  sched->run();
  EXPECT_EQ(counters->dead_lettered.load(), 1u);
  EXPECT_EQ(source->stored.back(), 3) << "the partition went on";
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_FALSE(counters->escalated.load());
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, a_dead_letter_that_no_form_fits_escalates) {
  auto a = spawn(3, 10, 0, failing_first(handled), std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(sink.sent.size(), i + 1);
    fail(i, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    sched->run();
  }
  EXPECT_EQ(sink.sent.size(), 3u) << "full, without the value, minimal: then no more";
  EXPECT_TRUE(counters->escalated.load());
  EXPECT_NE(counters->escalation().find("in/0@0"), std::string::npos) << counters->escalation();
  EXPECT_TRUE(source->stored.empty() || source->stored.back() == 0) << "nothing lost";
  caf::anon_send(a, wake_atom::value);  // the actor has ended
  sched->advance_time(policy.backoff_max);
  sched->run();
  EXPECT_EQ(sink.sent.size(), 3u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, a_dead_letter_topic_that_cannot_be_written_escalates_at_once) {
  auto a = spawn(3, 10, 0, failing_first(handled), std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  ASSERT_EQ(sink.sent.size(), 1u);
  fail(0, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  sched->run();
  EXPECT_TRUE(counters->escalated.load());
  EXPECT_NE(counters->escalation().find("test"), std::string::npos)
      << "the producer's answer is the cause: " << counters->escalation();
  sched->advance_time(policy.backoff_max * 10);
  sched->run();
  EXPECT_EQ(sink.sent.size(), 1u) << "no silent retry loop";
  EXPECT_TRUE(source->stored.empty() || source->stored.back() == 0);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(fixture, an_output_refused_for_good_sends_its_record_to_the_dlq_through_the_next_actor) {
  auto emitter = [this](context& ctx) -> caf::behavior {
    return {[this, &ctx](const event& e) {
      handled.push_back(e.offset().value());
      ctx.emit("orders.completed", e.key(), e.value());
    }};
  };
  auto a = spawn(3, 10, 0, emitter, std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  ASSERT_EQ(sink.sent.size(), 3u);
  delivery_tracker::delivered(std::exchange(sink.tokens.at(0), nullptr),
                              RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                              "delivery to orders.completed [0] failed: Broker: Unknown topic");
  sched->run();
  ASSERT_EQ(poison->count(0), 1u) << "handed to the partition's next actor";
  EXPECT_NE(poison->at(0).error.message.find("orders.completed"), std::string::npos);
  EXPECT_TRUE(source->stored.empty()) << "not past the record";
  ack(1, true);
  ack(2, true);
  sched->run();
  EXPECT_TRUE(source->stored.empty()) << "this actor has ended";

  // The supervisor's restart: from the stored offset, with the same poison map.
  auto b = spawn(3, 10, 0, emitter, std::chrono::hours(1));
  source->next = 0;
  caf::anon_send(b, wake_atom::value);
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2, 1, 2})) << "record 0 not run again";
  ASSERT_EQ(sink.sent.size(), 6u);
  const auto& dlq = sink.sent[5];
  EXPECT_EQ(dlq.topic, "test.dlq");
  EXPECT_EQ(dlq.key, "k0");
  EXPECT_EQ(dlq.header(dlq_header::error_class), "irrecoverable");
  EXPECT_NE(dlq.header(dlq_header::error_message).find("orders.completed"), std::string::npos);
  EXPECT_TRUE(poison->empty());
  ack_all();
  EXPECT_EQ(source->stored.back(), 3);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
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
