// The consumer protocol's bytes as a group coordinator describes a member:
// what its subscription says it owns, and what its assignment gives.

#include "src/kafka/consumer_protocol.hpp"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace kactor;
using namespace kactor::detail;

/// Writes the consumer protocol's big-endian fields (Kafka's
/// ConsumerProtocolSubscription and ConsumerProtocolAssignment).
struct writer {
  std::string bytes;
  writer& i16(int v) { return put(v, 2); }
  writer& i32(std::int64_t v) { return put(v, 4); }
  writer& str(const std::string& s) {
    i16(static_cast<int>(s.size()));
    bytes += s;
    return *this;
  }
  writer& blob(const std::string& b) {
    i32(static_cast<std::int64_t>(b.size()));
    bytes += b;
    return *this;
  }
  /// [topic [partition]]
  writer& parts(const std::vector<std::pair<std::string, std::vector<int>>>& topics) {
    i32(static_cast<std::int64_t>(topics.size()));
    for (const auto& [t, ps] : topics) {
      str(t);
      i32(static_cast<std::int64_t>(ps.size()));
      for (int p : ps) i32(p);
    }
    return *this;
  }
  writer& put(std::int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) bytes += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
};

topic_partition tp(const std::string& t, int p) {
  return {t, partition_id{p}};
}

TEST(consumer_protocol, reads_what_a_subscription_says_its_member_owns) {
  // Version 1, as librdkafka 2.0.2 writes it: topics, user data (the sticky
  // assignor's), owned partitions.
  const auto v1 =
      writer{}.i16(1).i32(1).str("in").blob("sticky-user-data").parts({{"in", {0, 2}}}).bytes;
  auto owned = subscription_owned_partitions(v1.data(), v1.size());
  ASSERT_TRUE(owned);
  EXPECT_EQ(*owned, (std::vector<topic_partition>{tp("in", 0), tp("in", 2)}));
  // Version 3 (the Java client) appends a generation and a rack: ignored.
  const auto v3 = writer{}
                      .i16(3)
                      .i32(2)
                      .str("a")
                      .str("b")
                      .i32(-1)
                      .parts({{"a", {1}}, {"b", {4}}})
                      .i32(7)
                      .str("rack-1")
                      .bytes;
  owned = subscription_owned_partitions(v3.data(), v3.size());
  ASSERT_TRUE(owned);
  EXPECT_EQ(*owned, (std::vector<topic_partition>{tp("a", 1), tp("b", 4)}));
  // Version 0 says nothing of ownership.
  const auto v0 = writer{}.i16(0).i32(1).str("in").blob("").bytes;
  owned = subscription_owned_partitions(v0.data(), v0.size());
  ASSERT_TRUE(owned);
  EXPECT_TRUE(owned->empty());
}

TEST(consumer_protocol, reads_an_assignment) {
  const auto a = writer{}.i16(1).parts({{"in", {3, 5}}}).blob("").bytes;
  auto parts = assignment_partitions(a.data(), a.size());
  ASSERT_TRUE(parts);
  EXPECT_EQ(*parts, (std::vector<topic_partition>{tp("in", 3), tp("in", 5)}));
  // A member the leader gave nothing has no assignment bytes at all.
  parts = assignment_partitions(nullptr, 0);
  ASSERT_TRUE(parts);
  EXPECT_TRUE(parts->empty());
}

TEST(consumer_protocol, refuses_bytes_that_are_not_the_consumer_protocol) {
  const auto whole = writer{}.i16(1).i32(1).str("in").blob("u").parts({{"in", {0, 1}}}).bytes;
  for (std::size_t cut = 1; cut < whole.size(); ++cut)
    EXPECT_FALSE(subscription_owned_partitions(whole.data(), cut)) << "cut at " << cut;
  const auto huge_count = writer{}.i16(1).i32(1000000).bytes;
  EXPECT_FALSE(assignment_partitions(huge_count.data(), huge_count.size()));
  const auto negative_user_data =
      writer{}.i16(1).i32(1).str("in").i32(-2).parts({{"in", {0}}}).bytes;
  EXPECT_FALSE(subscription_owned_partitions(negative_user_data.data(), negative_user_data.size()));
  const auto negative_string = writer{}.i16(1).i32(1).i16(-5).bytes;
  EXPECT_FALSE(subscription_owned_partitions(negative_string.data(), negative_string.size()));
}

}  // namespace
