// The partition actor's failure path: retries with backoff, dead letters
// (their context, their degraded forms, failed writes retried or escalated),
// outputs the producer gave up on or refused for good.

#include "tests/partition_actor_fixture.hpp"

#include <mutex>
#include <string>
#include <vector>

#include <kactor/dead_letter.hpp>
#include <kactor/log.hpp>

namespace {

using namespace kactor;
using namespace kactor::test;

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

TEST_F(fixture, ten_records_failing_their_retries_write_a_burst_of_warnings_and_count_the_rest) {
  std::mutex mx;
  std::vector<std::string> warnings;
  configure_log({log_level::warn, log_format::text, [&](log_level, std::string_view line) {
                   std::lock_guard lock(mx);
                   warnings.emplace_back(line);
                 }});
  auto a = spawn(
      10, 10, 0,
      [](context&) -> caf::behavior {
        return {[](const event&) { throw std::runtime_error("timeout calling risk API"); }};
      },
      std::chrono::hours(1));
  caf::anon_send(a, wake_atom::value);
  sched->run();
  while (sched->advance_time(policy.backoff_max)) sched->run();
  configure_log({});
  // 10 records x (1 attempt + 3 retries): 30 retry lines and 10 dead-letter lines.
  EXPECT_EQ(sink.sent.size(), 10u) << "every record dead-lettered";
  EXPECT_EQ(warnings.size(), 5u) << "one burst within the 10 s window";
  EXPECT_EQ(counters->warnings_held_back.load(), 35u);
  EXPECT_EQ(counters->failed.load(), 10u);
  EXPECT_EQ(counters->processed.load(), 0u);
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
  ASSERT_EQ(poison->count(kactor::offset{0}), 1u) << "handed to the partition's next actor";
  EXPECT_NE(poison->at(kactor::offset{0}).error.message.find("orders.completed"),
            std::string::npos);
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
  // Each record finished once per handling: 0 failed (taken back out of
  // processed when its output was refused), 1 and 2 processed by each actor.
  EXPECT_EQ(counters->failed.load(), 1u);
  EXPECT_EQ(counters->processed.load(), 4u);
  EXPECT_EQ(counters->dead_lettered.load(), 1u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  sched->run();
}

}  // namespace
