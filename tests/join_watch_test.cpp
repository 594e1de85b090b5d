// join_watch reads a consumer's JoinGroup/SyncGroup state from librdkafka
// 2.0.2's cgrp debug lines; the lines here are as a kactor worker logged them
// during a rolling restart (tests/exactly_once_chaos_test.cpp).

#include "src/kafka/join_watch.hpp"

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

TEST(join_watch, other_lines_change_nothing) {
  join_watch w;
  w.observe("HEARTBEAT", "[thrd:main]: Group \"g\" changed join state init -> wait-join");
  w.observe("FETCH", "[thrd:main]: JoinGroup response: GenerationId 2 ...: (no error)");
  EXPECT_FALSE(w.request_in_flight());
  EXPECT_FALSE(w.first_sync_pending());
}

}  // namespace
