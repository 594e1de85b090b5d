// Times as the configuration and the CLI read and print them.

#include "src/config/time.hpp"

#include <gtest/gtest.h>

namespace {

using kactor::detail::format_time;
using kactor::detail::parse_time;

TEST(time, reads_iso_8601_times_and_epoch_milliseconds) {
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

TEST(time, prints_times_as_utc_with_milliseconds_and_reads_them_back) {
  EXPECT_EQ(format_time(1764583200250), "2025-12-01T10:00:00.250Z");
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(parse_time(format_time(1764583212345)), 1764583212345);
}

}  // namespace
