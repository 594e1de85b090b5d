// Pure parts of the consumer group: reading the group's join state from
// librdkafka statistics (the gate for periodic commits) and naming the DLQ.

#include "src/group/consumer_group.hpp"

#include <gtest/gtest.h>

namespace {

using kactor::detail::consumer_group;

// Shaped as librdkafka 2.0.2 prints it (spaces after colons).
constexpr std::string_view kStats =
    R"({ "name": "rdkafka#consumer-1", "type": "consumer", "topics": { "t1": { "partitions": {)"
    R"( "0": { "fetch_state": "active" } } } }, "cgrp": { "state": "up", "stateage": 294,)"
    R"( "join_state": "steady", "rebalance_age": 281, "rebalance_cnt": 1 } })";

TEST(consumer_group, reads_the_join_state_from_librdkafka_statistics) {
  EXPECT_EQ(consumer_group::join_state(kStats), std::optional<std::string_view>("steady"));
  std::string rejoining(kStats);
  rejoining.replace(rejoining.find("steady"), 6, "wait-join");
  EXPECT_EQ(consumer_group::join_state(rejoining), std::optional<std::string_view>("wait-join"));
}

TEST(consumer_group, statistics_without_a_group_have_no_join_state) {
  EXPECT_FALSE(consumer_group::join_state(R"({ "name": "rdkafka#producer-1" })").has_value());
  EXPECT_FALSE(consumer_group::join_state("").has_value());
}

TEST(consumer_group, the_dead_letter_topic_defaults_to_the_agent_name) {
  kactor::agent_config cfg;
  cfg.name = "payments";
  EXPECT_EQ(consumer_group::dlq_topic(cfg), "payments.dlq");
  cfg.supervision.dlq_topic = "orders.failed";
  EXPECT_EQ(consumer_group::dlq_topic(cfg), "orders.failed");
}

}  // namespace
