// join_watch reads a consumer's JoinGroup/SyncGroup state from librdkafka
// 2.0.2's cgrp debug lines; the lines here are as a kactor worker logged them
// during a rolling restart (tests/exactly_once_chaos_test.cpp).

#include "src/kafka/join_watch.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace {

using kactor::detail::join_watch;

void join_state(join_watch& w, const char* from, const char* to) {
  const std::string text = std::string("[thrd:main]: Group \"g\" changed join state ") + from +
                           " -> " + to + " (state up)";
  w.observe("CGRPJOINSTATE", text.c_str());
}

TEST(join_watch, a_join_or_sync_in_flight_is_seen_until_the_next_state) {
  join_watch w;
  EXPECT_FALSE(w.request_in_flight());
  join_state(w, "init", "wait-join");
  EXPECT_TRUE(w.request_in_flight());
  join_state(w, "wait-join", "wait-metadata");
  EXPECT_FALSE(w.request_in_flight()) << "the leader fetching metadata sends nothing that blocks";
  join_state(w, "wait-metadata", "wait-sync");
  EXPECT_TRUE(w.request_in_flight());
  join_state(w, "wait-sync", "wait-assign-call");
  EXPECT_FALSE(w.request_in_flight());
  join_state(w, "wait-assign-call", "steady");
  EXPECT_FALSE(w.request_in_flight());
  join_state(w, "steady", "wait-join");
  EXPECT_TRUE(w.request_in_flight()) << "a cooperative rejoin, with no callback to the app";
  join_state(w, "wait-join", "init");
  EXPECT_FALSE(w.request_in_flight());
}

TEST(join_watch, the_first_sync_is_pending_from_an_answered_join_until_a_successful_sync) {
  join_watch w;
  w.observe("JOINGROUP",
            "[thrd:main]: JoinGroup response: GenerationId -1, Protocol , LeaderId , my MemberId "
            "kactor-80866ed3, member metadata count 0: Broker: Group member needs a valid member "
            "ID");
  EXPECT_FALSE(w.first_sync_pending()) << "a refused join chose no assignor";
  w.observe("JOINGROUP",
            "[thrd:main]: JoinGroup response: GenerationId 2, Protocol cooperative-sticky, "
            "LeaderId kactor-91002a7d, my MemberId kactor-80866ed3, member metadata count 0: (no "
            "error)");
  EXPECT_TRUE(w.first_sync_pending());
  w.observe("SYNCGROUP",
            "[thrd:main]: SyncGroup response: Broker: Group rebalance in progress (0 bytes of "
            "MemberState data)");
  EXPECT_TRUE(w.first_sync_pending()) << "a failed sync set no assignor state";
  w.observe("SYNCGROUP", "[thrd:main]: SyncGroup response: Success (48 bytes of MemberState data)");
  EXPECT_FALSE(w.first_sync_pending());
  w.observe("JOINGROUP",
            "[thrd:main]: JoinGroup response: GenerationId 3, Protocol cooperative-sticky, "
            "LeaderId kactor-91002a7d, my MemberId kactor-80866ed3, member metadata count 0: (no "
            "error)");
  EXPECT_FALSE(w.first_sync_pending()) << "only the first sync matters";
}

TEST(join_watch, an_assignment_may_come_from_an_answered_join_until_the_app_served_it) {
  join_watch w;
  join_state(w, "init", "wait-join");
  EXPECT_FALSE(w.assignment_may_come()) << "an unanswered join: its sync is a round trip away";
  join_state(w, "wait-join", "wait-metadata");
  EXPECT_TRUE(w.assignment_may_come());
  join_state(w, "wait-metadata", "wait-sync");
  EXPECT_TRUE(w.assignment_may_come());
  join_state(w, "wait-sync", "wait-assign-call");
  EXPECT_TRUE(w.assignment_may_come()) << "queued for the application's next poll";
  join_state(w, "wait-assign-call", "steady");
  EXPECT_FALSE(w.assignment_may_come());
  join_state(w, "steady", "wait-unassign-call");
  EXPECT_TRUE(w.assignment_may_come());
  join_state(w, "wait-unassign-call", "wait-incr-unassign-to-complete");
  EXPECT_FALSE(w.assignment_may_come());
}

TEST(join_watch, a_destroy_ends_when_it_returns_or_when_its_termination_waits_for_an_assign_call) {
  join_watch returns;
  std::thread destroyer([&] { returns.destroyed(); });
  EXPECT_TRUE(returns.await_destroy());
  destroyer.join();

  join_watch stuck;
  // A termination that waits for a revocation's unassign call gets it from
  // librdkafka itself: not stuck.
  stuck.observe("CGRPTERM",
                "[thrd:main]: Group \"g\": waiting for assign call, 2 toppar(s), 0 commit(s) "
                "(state up, join-state wait-unassign-call) before terminating");
  EXPECT_FALSE(stuck.destroy_stuck());
  // As librdkafka 2.0.2's spinning main thread logs it
  // (scripts/probes/destroy_with_pending_assignment.c).
  std::thread main_thread([&] {
    stuck.observe("CGRPTERM",
                  "[thrd:main]: Group \"g-12538\": waiting for assign call, 2 toppar(s), "
                  "assignment in progress, 0 commit(s) (state up, join-state wait-assign-call) "
                  "before terminating");
  });
  EXPECT_FALSE(stuck.await_destroy());
  main_thread.join();
  EXPECT_TRUE(stuck.destroy_stuck());
}

TEST(join_watch, other_lines_change_nothing) {
  join_watch w;
  w.observe("HEARTBEAT", "[thrd:main]: Group \"g\" changed join state init -> wait-join");
  w.observe("FETCH", "[thrd:main]: JoinGroup response: GenerationId 2 ...: (no error)");
  EXPECT_FALSE(w.request_in_flight());
  EXPECT_FALSE(w.first_sync_pending());
}

}  // namespace
