// Pure parts of the consumer group: naming the DLQ.

#include "src/group/consumer_group.hpp"

#include <gtest/gtest.h>

namespace {

using kactor::detail::consumer_group;

TEST(consumer_group, the_dead_letter_topic_defaults_to_the_agent_name) {
  kactor::agent_config cfg;
  cfg.name = "payments";
  EXPECT_EQ(consumer_group::dlq_topic(cfg), "payments.dlq");
  cfg.supervision.dlq_topic = "orders.failed";
  EXPECT_EQ(consumer_group::dlq_topic(cfg), "orders.failed");
}

}  // namespace
