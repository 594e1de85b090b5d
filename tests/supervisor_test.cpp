// The agent supervisor on CAF's deterministic scheduler: a partition actor
// that dies is restarted from its last stored offset with a fresh behaviour;
// too many restarts escalate (partition paused, agent unhealthy) instead of a
// crash loop; revocation answers for live, restarting and escalated slots;
// exactly_once: outputs handled during a commit wait for the release, and
// the control messages (barrier, release, rewind) keep their order.

#include "actors/supervisor.hpp"
#include "actors/deferred_outputs.hpp"
#include "tests/test_scheduler.hpp"

#include <librdkafka/rdkafka.h>

#include <optional>
#include <set>

#include <gtest/gtest.h>
#include <caf/all.hpp>

namespace {

using namespace kactor;
using namespace kactor::detail;
using boom_atom = caf::atom_constant<caf::atom("boom")>;

class memory_source final : public partition_source {
 public:
  std::size_t take(std::size_t max, std::deque<record_slot>& out) override {
    std::size_t n = 0;
    for (; n < max && next < end; ++n, ++next)
      out.push_back(record_slot{event{"in", partition_id{0}, kactor::offset{next}, 0, "k", "v"}});
    return n;
  }
  bool has_backlog() override { return next < end; }
  void pause() override { paused = true; }
  void resume() override { paused = false; }
  void store(std::uint32_t, kactor::offset n) override { stored = n.value(); }
  void rewind(std::uint32_t, kactor::offset n) override {
    rewinds.push_back(n.value());
    next = n.value();
  }
  std::int64_t next = 0, end = 5, stored = -1;
  bool paused = false;
  std::vector<std::int64_t> rewinds;
};

/// Keeps the values handed to the producer, in order, and acknowledges them
/// (or reports the failures set up), as the broker would at once.
class recording_sink final : public emit_sink {
 public:
  void emit(std::string_view topic, partition_id, std::string_view, std::string_view value,
            const headers&, delivery_tracker::entry* token) override {
    if (topic == "dlq") {
      ++dead_letters;
      if (token) delivery_tracker::delivered(token, dlq_code, "delivery to dlq failed");
      return;
    }
    values.push_back(std::stoll(std::string(value)));
    const auto fail = output_fails.find(values.back());
    const int code = fail == output_fails.end() ? 0 : fail->second;
    if (fail != output_fails.end()) output_fails.erase(fail);
    if (token) delivery_tracker::delivered(token, code, "delivery to out failed");
  }
  int dead_letters = 0;
  int dlq_code = 0;                          // what the dead-letter topic answers
  std::map<std::int64_t, int> output_fails;  // value -> error of its one failed delivery
  bool saturated() const override { return full; }
  void when_room(std::function<void()> wake) override {
    if (full)
      room_waiters.push_back(std::move(wake));
    else
      wake();
  }
  std::vector<std::int64_t> values;
  bool full = false;                                // what saturated() answers
  std::vector<std::function<void()>> room_waiters;  // when_room's, while full
};

struct supervisor_fixture : ::testing::Test, test::supervised {
  recording_sink sink;
  std::shared_ptr<memory_source> source = std::make_shared<memory_source>();
  std::shared_ptr<partition_counters> counters = std::make_shared<partition_counters>();
  std::shared_ptr<agent_health> health = std::make_shared<agent_health>();
  wake_hook hook;
  caf::event_based_actor* child = nullptr;
  int behaviours_made = 0;
  std::vector<std::int64_t> handled;
  supervision_policy policy;
  std::shared_ptr<transaction_control> txn;  // set before assign() for exactly_once
  std::size_t max_deferred_bytes = std::size_t{4} << 20;
  /// The actor's in-flight share, if set before assign().
  std::optional<std::size_t> in_flight_share;
  std::atomic<std::size_t> share{0};
  std::chrono::milliseconds pause_after{0};
  std::chrono::microseconds slice{2000};
  std::set<std::int64_t> failing;   // offsets whose handler throws
  std::set<std::int64_t> poisoned;  // offsets whose handler rejects the record

  supervisor_fixture() {
    policy.max_restarts = 2;
    policy.restart_window = std::chrono::seconds(60);
    policy.backoff_base = std::chrono::milliseconds(100);
    policy.backoff_max = std::chrono::milliseconds(400);
    supervise(policy, health, sink);
  }
  ~supervisor_fixture() override { end_supervision(); }

  void assign() {
    partition_spec spec;
    spec.cfg.agent = "agent";
    spec.cfg.inputs = {{topic_partition{"in", partition_id{0}}, counters}};
    spec.cfg.max_poll_records = 10;
    spec.cfg.factory = [this](context& ctx) -> caf::behavior {
      ++behaviours_made;
      child = ctx.self();
      return {[this, &ctx](const event& e) {
                handled.push_back(e.offset().value());
                ctx.emit("out", "k", std::to_string(e.offset().value()));
                if (failing.count(e.offset().value())) throw std::runtime_error("down");
                if (poisoned.count(e.offset().value())) throw irrecoverable_error("bad");
              },
              [](boom_atom) { throw std::runtime_error("state corrupted"); }};
    };
    spec.cfg.source = source;
    spec.cfg.sink = &sink;
    spec.cfg.dead_letters = dead_letters;
    spec.cfg.policy = policy;
    spec.cfg.txn = txn;
    spec.cfg.max_deferred_bytes = max_deferred_bytes;
    if (in_flight_share) {
      share = *in_flight_share;
      spec.cfg.in_flight_share = &share;
    }
    spec.cfg.pause_after = pause_after;
    spec.cfg.slice = slice;
    spec.hook = &hook;
    caf::anon_send(sup, assign_atom::value, std::move(spec));
    sched->run();
  }

  void crash_child() {
    caf::anon_send(caf::actor_cast<caf::actor>(child), boom_atom::value);
    sched->run();
  }

  /// Asks for a transaction barrier: the request is in the supervisor's
  /// mailbox when this returns; `sched->run()` gets the answer.
  std::shared_ptr<std::optional<partition_offsets>> ask_barrier() {
    auto out = std::make_shared<std::optional<partition_offsets>>();
    auto probe = sys->spawn([=](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, txn_barrier_atom::value).then([=](partition_offsets& r) {
        *out = r;
      });
    });
    sched->prioritize(probe);
    sched->run_once();
    return out;
  }

  /// exactly_once: a barrier is answered and the commit runs while records
  /// up to `end` arrive; the partition actor handles what it may meanwhile.
  void records_arrive_during_a_commit(std::int64_t end) {
    ask_barrier();
    sched->run();
    source->end = end;
    caf::anon_send(caf::actor_cast<caf::actor>(child), wake_atom::value);
    sched->run();
  }

  /// exactly_once: the release comes while the producer is full.
  void release_into_a_full_producer() {
    sink.full = true;
    caf::anon_send(sup, txn_release_atom::value);
  }

  /// The producer has room again: its delivery reports wake the waiting actors.
  void room_again() {
    sink.full = false;
    auto waiters = std::move(sink.room_waiters);
    sink.room_waiters.clear();
    for (auto& w : waiters) w();
    sched->run();
  }

  partition_offsets revoke() {
    partition_offsets out;
    auto probe = sys->spawn([&](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, revoke_atom::value,
                    std::vector<topic_partition>{{"in", partition_id{0}}})
          .then([&](partition_offsets& r) { out = r; });
    });
    sched->run();
    return out;
  }
};

TEST_F(supervisor_fixture, a_dead_partition_actor_restarts_from_its_last_stored_offset) {
  assign();
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(source->stored, 5);
  source->end = 8;  // more records arrive
  crash_child();
  EXPECT_EQ(behaviours_made, 1) << "not restarted before the backoff";
  sched->advance_time(policy.backoff_max);
  sched->run();
  EXPECT_EQ(behaviours_made, 2) << "a fresh behaviour: per-partition state starts over";
  ASSERT_EQ(source->rewinds, (std::vector<std::int64_t>{5}));
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(counters->restarts.load(), 1u);
  EXPECT_TRUE(health->healthy.load());
}

TEST_F(supervisor_fixture, too_many_restarts_escalate_instead_of_crash_looping) {
  assign();
  for (int i = 0; i < 2; ++i) {
    crash_child();
    sched->advance_time(policy.backoff_max);
    sched->run();
  }
  EXPECT_EQ(behaviours_made, 3);
  crash_child();  // third death within the window
  sched->advance_time(policy.backoff_max);
  sched->run();
  EXPECT_EQ(behaviours_made, 3) << "no further restart";
  EXPECT_TRUE(source->paused) << "the partition is paused: its lag grows in Kafka";
  EXPECT_TRUE(counters->escalated.load());
  EXPECT_FALSE(health->healthy.load());
  auto r = revoke();
  ASSERT_EQ(r.offsets.size(), 1u) << "an escalated partition still answers revocation";
  EXPECT_EQ(r.offsets[0].second.value(), 5);
}

TEST_F(supervisor_fixture, a_dead_letter_the_topic_refuses_escalates_at_once_without_restarts) {
  poisoned = {2};
  sink.dlq_code = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
  assign();
  EXPECT_EQ(sink.dead_letters, 1);
  EXPECT_TRUE(source->paused);
  EXPECT_TRUE(counters->escalated.load());
  EXPECT_FALSE(health->healthy.load());
  EXPECT_NE(health->reason().find("in/0@2"), std::string::npos) << health->reason();
  EXPECT_NE(health->reason().find("delivery to dlq failed"), std::string::npos)
      << "the producer's answer is the cause";
  sched->advance_time(policy.backoff_max * 10);
  sched->run();
  EXPECT_EQ(behaviours_made, 1) << "not restarted";
  EXPECT_EQ(sink.dead_letters, 1) << "no retry loop";
  EXPECT_EQ(counters->restarts.load(), 0u);
  auto r = revoke();
  ASSERT_EQ(r.offsets.size(), 1u);
  EXPECT_EQ(r.offsets[0].second.value(), 2) << "the next owner starts at the record";
}

TEST_F(supervisor_fixture, an_actor_handing_a_record_to_the_dlq_restarts_at_once_uncounted) {
  sink.output_fails[2] = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  assign();
  EXPECT_EQ(behaviours_made, 2) << "restarted with no backoff";
  EXPECT_EQ(source->rewinds, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 3, 4})) << "2 not run again";
  EXPECT_EQ(sink.dead_letters, 1);
  EXPECT_EQ(counters->dead_lettered.load(), 1u);
  EXPECT_EQ(source->stored, 5);
  // The hand-over used none of the restart intensity (max_restarts = 2).
  for (int i = 0; i < 2; ++i) {
    crash_child();
    sched->advance_time(policy.backoff_max);
    sched->run();
  }
  EXPECT_EQ(behaviours_made, 4);
  EXPECT_FALSE(counters->escalated.load());
  EXPECT_TRUE(health->healthy.load());
}

TEST_F(supervisor_fixture, revocation_stops_a_live_partition_actor_and_reports_its_offset) {
  assign();
  auto r = revoke();
  ASSERT_EQ(r.offsets.size(), 1u);
  EXPECT_EQ(r.offsets[0].first.topic, "in");
  EXPECT_EQ(r.offsets[0].second.value(), 5);
  crash_child();  // the child is gone: nothing restarts
  EXPECT_EQ(behaviours_made, 1);
}

using offsets = std::vector<std::int64_t>;

TEST_F(supervisor_fixture, outputs_handled_during_a_commit_wait_for_the_release) {
  txn = std::make_shared<transaction_control>();
  assign();
  ASSERT_EQ(sink.values, (offsets{0, 1, 2, 3, 4}));
  auto answer = ask_barrier();
  sched->run();
  ASSERT_TRUE(*answer && (*answer)->offsets.size() == 1u);
  EXPECT_EQ((*answer)->offsets[0].second.value(), 5);
  // The commit runs; records keep coming and the actor keeps handling them.
  source->end = 8;
  caf::anon_send(caf::actor_cast<caf::actor>(child), wake_atom::value);
  sched->run();
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4})) << "nothing into the committing transaction";
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 5, 6, 7})) << "into the next one, in order";
}

TEST_F(supervisor_fixture,
       an_actor_keeping_its_byte_bound_of_outputs_stands_still_until_the_release) {
  txn = std::make_shared<transaction_control>();
  // Two outputs: "out" once, then "k" and one digit for each.
  max_deferred_bytes = 2 * deferred_outputs::entry_bytes + 3 + 2 * 2;
  assign();
  records_arrive_during_a_commit(8);
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6})) << "held once two outputs are kept";
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4}));
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(supervisor_fixture, an_actor_keeps_outputs_within_its_in_flight_share_when_that_is_less) {
  // An agent with many tasks: each task's share of the held records' budget
  // bounds the outputs its actor keeps during a commit too (issue 15).
  txn = std::make_shared<transaction_control>();
  in_flight_share = 2 * deferred_outputs::entry_bytes + 3 + 2 * 2;  // two outputs
  assign();
  records_arrive_during_a_commit(8);
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6})) << "held once two outputs are kept";
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(supervisor_fixture, the_release_hands_over_one_kept_output_at_once_and_the_rest_with_room) {
  // librdkafka registers a partition with the transaction only once it has a
  // record for it: the first kept output goes at once, even to a full
  // producer. The rest waits for room, and no new record overtakes it.
  txn = std::make_shared<transaction_control>();
  assign();
  records_arrive_during_a_commit(8);
  release_into_a_full_producer();
  sched->run();
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 5}));
  source->end = 10;
  caf::anon_send(caf::actor_cast<caf::actor>(child), wake_atom::value);
  sched->run();
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6, 7})) << "no record before the kept outputs";
  room_again();
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(supervisor_fixture, a_long_hand_over_does_not_count_towards_pause_after) {
  // Handing kept outputs over is a hold like the commit: records waiting
  // through it did not wait for the handler.
  txn = std::make_shared<transaction_control>();
  pause_after = std::chrono::milliseconds(20);
  slice = {};  // one batch of kept outputs per actor turn
  assign();
  records_arrive_during_a_commit(605);  // 600 outputs kept
  source->end = 1000;                   // a backlog for after the hand-over
  caf::anon_send(sup, txn_release_atom::value);
  while (sink.values.size() < 5 + 1 + 512) sched->run_once();  // the first batch is over
  sched->advance_time(2 * pause_after);                        // the rest goes over later
  sched->run();
  EXPECT_EQ(sink.values.size(), 1000u);
  EXPECT_EQ(counters->pauses.load(), 0u);
}

TEST_F(supervisor_fixture, a_barrier_during_the_hand_over_is_answered_after_its_last_output) {
  // The next commit covers the offsets the barrier answers: every output of
  // those records must be in the producer's hands by then.
  txn = std::make_shared<transaction_control>();
  assign();
  records_arrive_during_a_commit(8);
  release_into_a_full_producer();
  auto second = ask_barrier();
  sched->run();
  EXPECT_FALSE(*second) << "answered with outputs 6 and 7 still kept";
  room_again();
  ASSERT_TRUE(*second && (*second)->offsets.size() == 1u);
  EXPECT_EQ((*second)->offsets[0].second.value(), 8);
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(supervisor_fixture, a_failed_record_does_not_stop_the_hand_over_of_the_outputs_before_it) {
  // Record 7 emits, then fails during the commit and waits for the group
  // thread's abort. The kept outputs still reach the producer (7's too: the
  // abort undoes it), or the next barrier, which comes before any abort,
  // would wait for them forever.
  txn = std::make_shared<transaction_control>();
  assign();
  failing = {7};
  records_arrive_during_a_commit(8);
  caf::anon_send(sup, txn_release_atom::value);
  auto second = ask_barrier();
  sched->run();
  ASSERT_TRUE(*second) << "the barrier was not answered";
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(supervisor_fixture, no_record_starts_while_an_abort_is_requested) {
  // Another partition's record failed: the open transaction aborts and every
  // partition rewinds. A record started meanwhile would only run again, and
  // its failure could reach the group thread after it counted the attempts.
  txn = std::make_shared<transaction_control>();
  assign();
  txn->report({topic_partition{"in", partition_id{1}},
               kactor::offset{3},
               {error_class::retriable, 0, "down"},
               0,
               {}});
  source->end = 8;
  caf::anon_send(caf::actor_cast<caf::actor>(child), wake_atom::value);
  sched->run();
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4}));
  txn->take();
  txn->resume();  // the group thread rewound every partition
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(supervisor_fixture, after_a_rewind_no_record_starts_until_the_backoff_is_over) {
  // The group thread rewound every partition and polls on while the failed
  // records' retry backoff runs; the release of that cycle and a barrier in
  // the meantime start nothing.
  txn = std::make_shared<transaction_control>();
  assign();
  txn->hold_for_backoff();
  source->end = 8;
  caf::anon_send(caf::actor_cast<caf::actor>(child), wake_atom::value);
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  auto answer = ask_barrier();
  sched->run();
  ASSERT_TRUE(answer->has_value()) << "a held actor still answers barriers";
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4}));
  txn->end_backoff();  // run(): the backoff is over, then a release
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  EXPECT_EQ(handled, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(supervisor_fixture, a_release_never_overtakes_the_next_barrier) {
  // The group thread releases one commit and asks for the next barrier before
  // the partition actor ran again. The next commit covers the offsets the
  // barrier answers: no output beyond them may reach the producer before it.
  txn = std::make_shared<transaction_control>();
  assign();
  ask_barrier();
  sched->run();
  source->end = 8;  // records arrive while the commit runs
  caf::anon_send(sup, txn_release_atom::value);
  auto second = ask_barrier();
  sched->run();
  ASSERT_TRUE(*second && (*second)->offsets.size() == 1u);
  const auto covered = (*second)->offsets[0].second.value();
  for (auto v : sink.values) EXPECT_LT(v, covered) << "an output past the committed offsets";
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(supervisor_fixture, a_rewind_drops_the_outputs_kept_during_the_commit) {
  // The commit failed: the group thread aborts, rewinds every partition and
  // releases. Outputs kept meanwhile belong to records that run again.
  txn = std::make_shared<transaction_control>();
  assign();
  records_arrive_during_a_commit(8);
  rewind_orders orders;
  rewind_order o;
  o.to = kactor::offset{2};
  orders.orders.emplace_back(topic_partition{"in", partition_id{0}}, o);
  caf::anon_send(sup, std::move(orders));
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  EXPECT_EQ(source->rewinds, (offsets{2}));
  EXPECT_EQ(sink.values, (offsets{0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7}))
      << "5..7 once, from the second pass";
}

}  // namespace
