// Where a request's reply goes (kactor/reply.hpp), from kactor's headers or
// Spring Kafka's ReplyingKafkaTemplate's, and why a request that names no
// route cannot be answered.

#include <kactor/reply.hpp>

#include <string>

#include <gtest/gtest.h>
#include <kactor/error.hpp>

namespace {

using namespace kactor;

/// A request on requests/2@7 with these headers.
reply_route route(const headers& hdrs) {
  return route_reply(
      event{"requests", partition_id{2}, kactor::offset{7}, 0, "k", "question", nullptr, &hdrs});
}

/// The message `route_reply` throws for these headers ("" if it does not).
std::string refusal(const headers& hdrs) {
  try {
    route(hdrs);
  } catch (const irrecoverable_error& e) {
    return e.what();
  }
  return "";
}

TEST(reply, kactor_headers_name_the_topic_the_partition_and_the_correlation_id) {
  const auto r = route({{"kactor.reply_to", "asker.replies"},
                        {"kactor.reply_partition", "5"},
                        {"kactor.correlation_id", "c-42"}});
  EXPECT_EQ(r.topic, "asker.replies");
  EXPECT_EQ(r.partition, partition_id{5});
  EXPECT_EQ(r.correlation.key, "kactor.correlation_id");
  EXPECT_EQ(r.correlation.value, "c-42");
  EXPECT_EQ(route({{"kactor.reply_to", "t"}, {"kactor.correlation_id", "c"}}).partition,
            partition_id{-1})
      << "no partition named: the producer partitions by key";
}

TEST(reply, spring_headers_carry_a_big_endian_partition_and_binary_correlation_bytes) {
  const std::string id("\x00\x01\xfe\xff-uuid", 9);
  const auto r = route({{"kafka_replyTopic", "jvm.replies"},
                        {"kafka_replyPartition", std::string("\x00\x00\x01\x02", 4)},
                        {"kafka_correlationId", id}});
  EXPECT_EQ(r.topic, "jvm.replies");
  EXPECT_EQ(r.partition, partition_id{258});
  EXPECT_EQ(r.correlation.key, "kafka_correlationId");
  EXPECT_EQ(r.correlation.value, id) << "the bytes come back unchanged";
}

TEST(reply, kactor_headers_win_over_springs_when_both_are_there) {
  const auto r = route({{"kafka_replyTopic", "jvm.replies"},
                        {"kafka_correlationId", "spring"},
                        {"kactor.reply_to", "kactor.replies"},
                        {"kactor.correlation_id", "mine"}});
  EXPECT_EQ(r.topic, "kactor.replies");
  EXPECT_EQ(r.correlation.value, "mine");
}

TEST(reply, a_request_that_names_no_route_is_refused_saying_why) {
  auto why = refusal({});
  EXPECT_NE(why.find("requests/2@7 cannot be answered"), std::string::npos) << why;
  EXPECT_NE(why.find("no kactor.reply_to or kafka_replyTopic header"), std::string::npos) << why;
  why = refusal({{"kactor.reply_to", "t"}});
  EXPECT_NE(why.find("no kactor.correlation_id"), std::string::npos) << why;
  why = refusal({{"kafka_replyTopic", "t"}, {"kafka_replyPartition", "12"}});
  EXPECT_NE(why.find("2 byte(s), not a 4-byte big-endian partition"), std::string::npos) << why;
  why = refusal({{"kactor.reply_to", "t"},
                 {"kactor.reply_partition", "two"},
                 {"kactor.correlation_id", "c"}});
  EXPECT_NE(why.find("'two', not a partition number"), std::string::npos) << why;
}

}  // namespace
