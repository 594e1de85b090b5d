// Typed payloads: event::as<T>() parses Protobuf values; a value that does not
// parse is an irrecoverable error naming the record and the type.

#include <kactor/event.hpp>

#include <gtest/gtest.h>

#include "kactor_test.pb.h"

namespace {

using namespace kactor;

event make_event(const std::string& value, const headers* hdrs = nullptr) {
  return event{"tasks", partition_id{3}, kactor::offset{42}, 1700000000000, "key", value, nullptr,
               hdrs};
}

TEST(event, parses_a_protobuf_value) {
  test::Task t;
  t.set_id("t-1");
  t.set_amount(1250);
  t.add_tags("urgent");
  const auto bytes = t.SerializeAsString();
  auto parsed = make_event(bytes).as<test::Task>();
  EXPECT_EQ(parsed.id(), "t-1");
  EXPECT_EQ(parsed.amount(), 1250);
  ASSERT_EQ(parsed.tags_size(), 1);
  EXPECT_EQ(parsed.tags(0), "urgent");
}

TEST(event, a_value_that_does_not_parse_is_irrecoverable_and_says_where) {
  const std::string garbage("\xff\xff\xff\xff\x0f", 5);
  try {
    make_event(garbage).as<test::Task>();
    FAIL() << "expected irrecoverable_error";
  } catch (const irrecoverable_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tasks/3@42"), std::string::npos) << what;
    EXPECT_NE(what.find("kactor.test.Task"), std::string::npos) << what;
  }
}

TEST(event, header_lookup_returns_the_last_value) {
  headers h{{"trace", "a"}, {"attempt", "1"}, {"attempt", "2"}};
  auto e = make_event("v", &h);
  EXPECT_EQ(e.header("attempt"), std::optional<std::string_view>("2"));
  EXPECT_EQ(e.header("trace"), std::optional<std::string_view>("a"));
  EXPECT_FALSE(e.header("missing").has_value());
  EXPECT_EQ(e.all_headers().size(), 3u);
}

}  // namespace
