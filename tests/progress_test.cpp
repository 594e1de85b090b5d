// The CLI's progress reports: how far, how fast, how long is left; lines for
// logs, one line redrawn in place on a terminal.

#include "src/cli/progress.hpp"

#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

namespace {

using kactor::detail::progress_reporter;
using namespace std::chrono_literals;

TEST(progress, a_line_says_how_far_how_fast_and_how_long_is_left) {
  EXPECT_EQ(progress_reporter::line("kactor dlq redrive: examined", 250, 1000, 2.0, ""),
            "kactor dlq redrive: examined 250 of 1000 record(s), 125/s, about 6 s left");
  EXPECT_EQ(progress_reporter::line("kactor trace: scanned", 30, 0, 1.0, "2 matched"),
            "kactor trace: scanned 30 record(s), 30/s, 2 matched")
      << "an unknown total gives no time left";
  EXPECT_EQ(progress_reporter::line("x", 0, 10, 0.0, ""), "x 0 of 10 record(s), 0/s")
      << "no rate yet, no guess";
}

TEST(progress, without_a_terminal_each_report_is_a_line) {
  std::ostringstream out;
  progress_reporter p(out, "scanned", 3, false, 0ms);
  p.update(1);
  p.update(2, "1 matched");
  p.finish();
  const auto text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_NE(text.find("\nscanned 2 of 3 record(s), "), std::string::npos) << text;
  EXPECT_NE(text.find(", 1 matched\n"), std::string::npos) << text;
}

TEST(progress, on_a_terminal_one_line_is_redrawn_and_ended_at_finish) {
  std::ostringstream out;
  progress_reporter p(out, "scanned", 3, true, 0ms);
  p.update(1);
  p.update(2);
  const auto drawn = out.str();
  EXPECT_EQ(drawn.find('\n'), std::string::npos) << "redrawn in place, no new line";
  EXPECT_EQ(drawn.rfind("\r\x1b[K", 0), 0u);
  EXPECT_NE(drawn.find("\r\x1b[Kscanned 2 of 3"), std::string::npos);
  p.finish();
  EXPECT_EQ(out.str().back(), '\n');
}

TEST(progress, reports_come_no_more_often_than_asked) {
  std::ostringstream out;
  progress_reporter p(out, "scanned", 0, false, 1h);
  for (int i = 0; i < 1000; ++i) p.update(i);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
