// kactor's log: stderr by default (stdout stays the program's), a level, a
// JSON format, a user's sink.
#include <kactor/log.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kactor {
namespace {

struct log_test : ::testing::Test {
  ~log_test() override { configure_log({}); }
};

TEST_F(log_test, lines_go_to_stderr_not_stdout) {
  configure_log({});
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  log(log_level::warn, "partition {}/{} is slow", "orders", 3);
  const auto out = testing::internal::GetCapturedStdout();
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("warning kactor: partition orders/3 is slow"), std::string::npos) << err;
}

TEST_F(log_test, on_a_terminal_a_progress_line_stays_below_the_log_lines_until_done) {
  log_config cfg;
  cfg.terminal = true;
  configure_log(cfg);
  ASSERT_TRUE(log_progress_shown());
  testing::internal::CaptureStderr();
  const log_subject task{"counter", "words", 2};
  log_progress(task, "restored 10 of 40");
  log(log_level::warn, "slow");
  log_progress(task, "restored 30 of 40");
  log_progress_done();
  log(log_level::warn, "after");
  const auto err = testing::internal::GetCapturedStderr();
  // Each log line as written, its time replaced by "T".
  std::string shown = err;
  for (const char* tail : {" warning kactor: slow\n", " warning kactor: after\n"}) {
    const auto end = shown.find(tail);
    ASSERT_NE(end, std::string::npos) << err;
    ASSERT_GE(end, 23u);
    shown.replace(end - 23, 23, "T");  // "2026-12-01T22:10:55.123"
  }
  const std::string clear = "\r\x1b[K", first = "agent counter: words/2: restored 10 of 40",
                    second = "agent counter: words/2: restored 30 of 40";
  // Drawn; cleared for the log line, which is written whole; drawn again
  // below it; redrawn in place; cleared; later lines plain.
  EXPECT_EQ(shown, clear + first + clear + "T warning kactor: slow\n" + first + clear + second +
                       clear + "T warning kactor: after\n");
}

TEST_F(log_test, off_a_terminal_or_below_info_progress_draws_nothing) {
  for (auto cfg : {log_config{log_level::info, log_format::text, {}, false},
                   log_config{log_level::info, log_format::json, {}, true},
                   log_config{log_level::warn, log_format::text, {}, true}}) {
    configure_log(cfg);
    EXPECT_FALSE(log_progress_shown());
    testing::internal::CaptureStderr();
    log_progress({"counter"}, "restored 10 of 40");
    log_progress_done();
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  }
}

TEST_F(log_test, lines_below_the_level_are_not_written) {
  std::vector<std::pair<log_level, std::string>> lines;
  configure_log({log_level::warn, log_format::text,
                 [&](log_level l, std::string_view m) { lines.emplace_back(l, std::string(m)); }});
  log(log_level::info, "assigned 4 partitions");
  log(log_level::error, "commit failed");
  EXPECT_FALSE(log_enabled(log_level::info));
  EXPECT_TRUE(log_enabled(log_level::error));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, log_level::error);
  EXPECT_EQ(lines[0].second, "commit failed");
  configure_log({log_level::off});
  EXPECT_FALSE(log_enabled(log_level::error));
}

TEST_F(log_test, the_json_format_writes_one_parsable_object_per_line) {
  configure_log({log_level::info, log_format::json});
  testing::internal::CaptureStderr();
  log(log_level::info, "a \"quoted\" name\nand a second line\t\x01");
  log(log_level::error, "second");
  const auto err = testing::internal::GetCapturedStderr();
  const auto nl = err.find('\n');
  ASSERT_NE(nl, std::string::npos);
  const auto first = nlohmann::json::parse(err.substr(0, nl));
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["logger"], "kactor");
  EXPECT_EQ(first["message"], "a \"quoted\" name\nand a second line\t\x01");
  EXPECT_TRUE(first["time_ms"].is_number());
  EXPECT_EQ(nlohmann::json::parse(err.substr(nl + 1))["level"], "error");
}

TEST_F(log_test, a_lines_subject_is_json_fields_and_a_text_prefix) {
  configure_log({log_level::info, log_format::json});
  testing::internal::CaptureStderr();
  log_about(log_level::warn, {"orders \"eu\"", "orders", 3}, "record {} failed", "orders/3@17");
  log_about(log_level::info, {"fraud"}, "assigned 2 partition(s)");
  log_about(log_level::info, {"fraud", {}, 5}, "store counts: restored 10 changelog record(s)");
  const auto err = testing::internal::GetCapturedStderr();
  std::vector<nlohmann::json> lines;
  std::size_t at = 0;
  for (auto nl = err.find('\n'); nl != std::string::npos; at = nl + 1, nl = err.find('\n', at))
    lines.push_back(nlohmann::json::parse(err.substr(at, nl - at)));
  ASSERT_EQ(lines.size(), 3u) << err;
  EXPECT_EQ(lines[0]["agent"], "orders \"eu\"");
  EXPECT_EQ(lines[0]["topic"], "orders");
  EXPECT_EQ(lines[0]["partition"], 3);
  EXPECT_EQ(lines[0]["message"], "record orders/3@17 failed") << "no prefix in JSON";
  EXPECT_EQ(lines[1]["agent"], "fraud");
  EXPECT_FALSE(lines[1].contains("topic"));
  EXPECT_FALSE(lines[1].contains("partition"));
  EXPECT_FALSE(lines[2].contains("topic"));
  EXPECT_EQ(lines[2]["partition"], 5);

  // Text and a sink get the subject as the message's prefix.
  std::vector<std::string> messages;
  configure_log({log_level::info, log_format::json,
                 [&](log_level, std::string_view m) { messages.emplace_back(m); }});
  log_about(log_level::warn, {"orders", "orders", 3}, "record {} failed", "orders/3@17");
  log_about(log_level::info, {"fraud", {}, 5}, "store counts: restored");
  log_about(log_level::info, {}, "no subject");
  EXPECT_EQ(messages, (std::vector<std::string>{"agent orders: orders/3: record orders/3@17 failed",
                                                "agent fraud: partition 5: store counts: restored",
                                                "no subject"}));
  configure_log({});
  testing::internal::CaptureStderr();
  log_about(log_level::warn, {"orders", "orders", 3}, "slow");
  const auto text = testing::internal::GetCapturedStderr();
  EXPECT_NE(text.find("warning kactor: agent orders: orders/3: slow"), std::string::npos) << text;
}

}  // namespace
}  // namespace kactor
