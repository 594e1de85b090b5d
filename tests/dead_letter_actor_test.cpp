// What the dead-letter actor writes: the context headers, every one bounded,
// and the degraded forms for a dead-letter topic that cannot hold the record.

#include "actors/dead_letter_actor.hpp"

#include <gtest/gtest.h>
#include <kactor/dead_letter.hpp>

namespace {

using namespace kactor;
using namespace kactor::detail;

dead_letter letter(std::string message, dead_letter_form form = dead_letter_form::full) {
  dead_letter d;
  d.topic = "orders";
  d.partition = partition_id{3};
  d.offset = kactor::offset{1234};
  d.timestamp_ms = 1700000000000;
  d.key = "order-7";
  d.value = std::string(900 * 1024, 'v');
  d.hdrs = {header{"trace", "abc"}};
  d.agent = "payments";
  d.cause.error = {error_class::irrecoverable, 0, std::move(message)};
  d.cause.attempts = 1;
  d.cause.form = form;
  d.cause.degraded_because = "Broker: Message size too large";
  return d;
}

std::optional<std::string> find(const headers& hdrs, std::string_view name) {
  for (const auto& h : hdrs)
    if (h.key == name) return h.value;
  return std::nullopt;
}

TEST(dead_letter_encode, the_full_form_keeps_the_record_and_adds_its_context) {
  auto d = letter("payment declined");
  auto r = encode(d);
  EXPECT_EQ(r.key, "order-7");
  EXPECT_EQ(r.value.size(), d.value.size());
  EXPECT_EQ(find(r.hdrs, "trace"), "abc") << "the record's own headers first, unchanged";
  EXPECT_EQ(r.hdrs.front().key, "trace");
  EXPECT_EQ(find(r.hdrs, dlq_header::source_topic), "orders");
  EXPECT_EQ(find(r.hdrs, dlq_header::source_partition), "3");
  EXPECT_EQ(find(r.hdrs, dlq_header::source_offset), "1234");
  EXPECT_EQ(find(r.hdrs, dlq_header::error_message), "payment declined");
  EXPECT_FALSE(find(r.hdrs, dlq_header::error_message_size)) << "not cut";
  EXPECT_FALSE(find(r.hdrs, dlq_header::value_omitted));
  EXPECT_FALSE(find(r.hdrs, dlq_header::degraded_because));
}

TEST(dead_letter_encode, a_message_that_embeds_the_payload_is_cut_with_a_marker) {
  auto d = letter("malformed order: " + std::string(900 * 1024, 'v'));
  auto r = encode(d);
  const auto msg = find(r.hdrs, dlq_header::error_message);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->size(), dlq_header::max_value);
  EXPECT_EQ(msg->substr(0, 17), "malformed order: ");
  EXPECT_EQ(msg->substr(msg->size() - dlq_header::truncated_marker.size()),
            dlq_header::truncated_marker);
  EXPECT_EQ(find(r.hdrs, dlq_header::error_message_size),
            std::to_string(d.cause.error.message.size()));
  for (const auto& h : r.hdrs)
    if (h.key.rfind(dlq_header::prefix, 0) == 0) EXPECT_LE(h.value.size(), dlq_header::max_value);
}

TEST(dead_letter_encode, a_cut_never_splits_a_utf8_character) {
  // 'é' is two bytes; with an odd prefix a cut at a fixed byte would split one.
  std::string text = "x";
  while (text.size() < 2 * dlq_header::max_value) text += "\xc3\xa9";
  const auto cut = dlq_header::bounded(text);
  EXPECT_LE(cut.size(), dlq_header::max_value);
  const auto body = cut.substr(0, cut.size() - dlq_header::truncated_marker.size());
  EXPECT_EQ((body.size() - 1) % 2, 0u) << "whole characters only";
  EXPECT_NE(static_cast<unsigned char>(body.back()), 0xc3) << "no lead byte without its tail";
}

TEST(dead_letter_encode, the_degraded_forms_omit_the_value_then_the_key_and_headers) {
  auto d = letter("too big", dead_letter_form::value_omitted);
  auto r = encode(d);
  EXPECT_EQ(r.value.data(), nullptr) << "a null value";
  EXPECT_EQ(r.key, "order-7");
  EXPECT_EQ(find(r.hdrs, "trace"), "abc");
  EXPECT_EQ(find(r.hdrs, dlq_header::value_omitted), "true");
  EXPECT_EQ(find(r.hdrs, dlq_header::value_size), std::to_string(900 * 1024));
  EXPECT_EQ(find(r.hdrs, dlq_header::degraded_because), "Broker: Message size too large");
  EXPECT_EQ(find(r.hdrs, dlq_header::source_offset), "1234") << "where to read the original";

  d.cause.form = dead_letter_form::minimal;
  r = encode(d);
  EXPECT_EQ(r.value.data(), nullptr);
  EXPECT_EQ(r.key.data(), nullptr) << "a null key";
  EXPECT_FALSE(find(r.hdrs, "trace"));
  EXPECT_EQ(find(r.hdrs, dlq_header::key_omitted), "true");
  EXPECT_EQ(find(r.hdrs, dlq_header::headers_omitted), "true");
  EXPECT_EQ(find(r.hdrs, dlq_header::source_topic), "orders");
}

}  // namespace
