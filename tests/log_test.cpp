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
