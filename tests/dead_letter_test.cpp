// The dead-letter header codec: what the dead-letter actor writes is what
// `kactor dlq` and users' consumers read back.
#include <kactor/kactor.hpp>  // the whole public API, the codec included

#include <gtest/gtest.h>

namespace kactor {
namespace {

dead_letter_context full_context() {
  dead_letter_context c;
  c.source_topic = "orders";
  c.source_partition = partition_id{3};
  c.source_offset = kactor::offset{1234};
  c.source_timestamp_ms = 1700000000123;
  c.agent = "checker";
  c.error_class = error_class::irrecoverable;
  c.error_message = "payment declined";
  c.attempts = 4;
  c.first_failure_ms = 1700000000200;
  c.last_failure_ms = 1700000000900;
  c.value_omitted = true;
  c.value_size = 921600;
  c.key_omitted = true;
  c.headers_omitted = true;
  c.degraded_because = "Broker: Message size too large";
  return c;
}

TEST(dead_letter_codec, what_is_encoded_decodes_to_the_same_context) {
  headers hs{{"trace", "abc"}};
  encode_dead_letter_headers(full_context(), hs);
  EXPECT_EQ(hs.front().key, "trace") << "appended after the record's own headers";
  const event e("orders.dlq", partition_id{0}, kactor::offset{9}, -1, "k", "v", nullptr, &hs);
  const auto d = decode_dead_letter_headers(e);
  const auto c = full_context();
  EXPECT_EQ(d.source_topic, c.source_topic);
  EXPECT_EQ(d.source_partition, c.source_partition);
  EXPECT_EQ(d.source_offset, c.source_offset);
  EXPECT_EQ(d.source_timestamp_ms, c.source_timestamp_ms);
  EXPECT_EQ(d.agent, c.agent);
  EXPECT_EQ(d.error_class, c.error_class);
  EXPECT_EQ(d.error_message, c.error_message);
  EXPECT_FALSE(d.error_message_size) << "not cut";
  EXPECT_EQ(d.attempts, c.attempts);
  EXPECT_EQ(d.first_failure_ms, c.first_failure_ms);
  EXPECT_EQ(d.last_failure_ms, c.last_failure_ms);
  EXPECT_TRUE(d.value_omitted);
  EXPECT_EQ(d.value_size, c.value_size);
  EXPECT_TRUE(d.key_omitted);
  EXPECT_TRUE(d.headers_omitted);
  EXPECT_EQ(d.degraded_because, c.degraded_because);
  EXPECT_EQ(d.source(), "orders/3@1234");
}

TEST(dead_letter_codec, absent_fields_are_not_written_and_read_back_empty) {
  dead_letter_context c;
  c.source_topic = "orders";
  headers hs;
  encode_dead_letter_headers(c, hs);
  ASSERT_EQ(hs.size(), 1u);
  EXPECT_EQ(hs[0].key, dlq_header::source_topic);
  const event e("orders.dlq", partition_id{0}, kactor::offset{0}, -1, {}, {}, nullptr, &hs);
  const auto d = decode_dead_letter_headers(e);
  EXPECT_FALSE(d.source_partition);
  EXPECT_FALSE(d.attempts);
  EXPECT_FALSE(d.error_class);
  EXPECT_FALSE(d.value_omitted);
  EXPECT_EQ(d.source(), "orders/-@-");
}

TEST(dead_letter_codec, a_long_message_is_cut_and_its_size_kept) {
  dead_letter_context c;
  c.error_message = "malformed order: " + std::string(900 * 1024, 'v');
  headers hs;
  encode_dead_letter_headers(c, hs);
  const event e("t", partition_id{0}, kactor::offset{0}, -1, {}, {}, nullptr, &hs);
  const auto d = decode_dead_letter_headers(e);
  ASSERT_TRUE(d.error_message);
  EXPECT_EQ(d.error_message->size(), dlq_header::max_value);
  EXPECT_EQ(d.error_message_size, c.error_message->size());
}

TEST(dead_letter_codec, values_that_do_not_parse_decode_as_absent) {
  const headers hs{{std::string(dlq_header::source_partition), "three"},
                   {std::string(dlq_header::source_offset), "12x"},
                   {std::string(dlq_header::attempts), "-1"},
                   {std::string(dlq_header::error_class), "bad luck"},
                   {std::string(dlq_header::value_omitted), "yes"}};
  const event e("t", partition_id{0}, kactor::offset{0}, -1, {}, {}, nullptr, &hs);
  const auto d = decode_dead_letter_headers(e);
  EXPECT_FALSE(d.source_partition);
  EXPECT_FALSE(d.source_offset);
  EXPECT_FALSE(d.attempts);
  EXPECT_FALSE(d.error_class);
  EXPECT_FALSE(d.value_omitted) << "only \"true\" means omitted";
}

TEST(dead_letter_codec, the_last_of_repeated_headers_wins) {
  headers hs;
  dead_letter_context first;
  first.attempts = 1;
  encode_dead_letter_headers(first, hs);
  dead_letter_context second;
  second.attempts = 5;
  encode_dead_letter_headers(second, hs);
  const event e("t", partition_id{0}, kactor::offset{0}, -1, {}, {}, nullptr, &hs);
  EXPECT_EQ(decode_dead_letter_headers(e).attempts, 5u);
}

}  // namespace
}  // namespace kactor
