// `kactor trace` without a broker: which topics its patterns pick.

#include "src/cli/trace_tool.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using kactor::detail::match_topics;

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
