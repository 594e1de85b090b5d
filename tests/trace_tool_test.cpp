// `kactor trace` without a broker: times on its command line and in its
// output, and which topics its patterns pick.

#include "src/cli/trace_tool.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using kactor::detail::format_time;
using kactor::detail::match_topics;
using kactor::detail::parse_time;

TEST(trace_tool, reads_iso_8601_times_and_epoch_milliseconds) {
  EXPECT_EQ(parse_time("1764583200000"), 1764583200000);
  EXPECT_EQ(parse_time("2025-12-01T10:00:00Z"), 1764583200000);
  EXPECT_EQ(parse_time("2025-12-01T10:00:00.25Z"), 1764583200250);
  EXPECT_EQ(parse_time("2025-12-01T10:00:00.123456Z"), 1764583200123) << "cut to milliseconds";
  EXPECT_EQ(parse_time("2025-12-01T11:30:00+01:30"), 1764583200000);
  EXPECT_EQ(parse_time("2025-12-01T08:00:00-02:00"), 1764583200000);
  for (const char* bad :
       {"", "yesterday", "2025-12-01", "2025-12-01 10:00:00Z", "2025-13-01T10:00:00Z",
        "2025-12-01T10:00:00", "2025-12-01T10:00:00.Z", "2025-12-01T10:00:00+1", "-5"})
    EXPECT_FALSE(parse_time(bad)) << bad;
}

TEST(trace_tool, prints_times_as_utc_with_milliseconds_and_reads_them_back) {
  EXPECT_EQ(format_time(1764583200250), "2025-12-01T10:00:00.250Z");
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(parse_time(format_time(1764583212345)), 1764583212345);
}

TEST(trace_tool, patterns_match_whole_topic_names_and_never_internal_topics) {
  const std::vector<std::string> topics{
      "trip.requested", "trip.booking.failed", "flight.booked",      "hotel.failed",
      "mytrip.x",       "__consumer_offsets",  "__transaction_state"};
  EXPECT_EQ(match_topics("trip.*, flight.*", topics),
            (std::vector<std::string>{"flight.booked", "trip.booking.failed", "trip.requested"}))
      << "whole names: mytrip.x does not match trip.*";
  EXPECT_EQ(match_topics(".*", topics).size(), 5u) << "internal topics left out";
  EXPECT_TRUE(match_topics("car.*", topics).empty());
}

TEST(trace_tool, a_bad_pattern_is_named) {
  try {
    match_topics("trip.*,hotel[", {"trip.a"});
    FAIL() << "accepted hotel[";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bad topic pattern 'hotel['"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(match_topics(" , ", {"trip.a"}), std::invalid_argument);
}

}  // namespace
