// The Prometheus exposition and the readiness probe of a runtime's stats:
// the figures as the stats say, labels escaped, and the text accepted by
// Prometheus's own checker (`promtool check metrics`, Debian's prometheus).

#include "src/ops/metrics.hpp"

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/temp_dir.hpp"

namespace kactor::detail {
namespace {

runtime_stats sample() {
  runtime_stats s;
  agent_stats a;
  a.name = "orders \"eu\"";
  a.group = "orders";
  a.healthy = true;
  a.ready = true;
  a.rebalances = 3;
  a.longest_revoke = std::chrono::microseconds(1500);
  a.transactions_committed = 12;
  a.handler_latency.counts[0] = 900;    // at most 10 µs
  a.handler_latency.counts[4] = 99;     // (0.5 ms, 1 ms]
  a.handler_latency.counts.back() = 1;  // above 5 s
  a.handler_latency.sum_seconds = 7.25;
  partition_stats p;
  p.tp = {"orders", partition_id{2}};
  p.assigned = true;
  p.processed = 1000;
  p.failed = 2;
  p.retries = 5;
  p.dead_lettered = 2;
  p.in_flight = 17;
  p.stored_offset = 1002;
  p.end_offset = 1100;
  p.restored_total = 22000;
  p.restore_time = std::chrono::milliseconds(1500);
  a.partitions.push_back(p);
  partition_stats gone;
  gone.tp = {"orders", partition_id{3}};
  a.partitions.push_back(gone);
  s.agents.push_back(a);
  return s;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(metrics, the_exposition_carries_every_figure_with_its_labels) {
  const auto text = prometheus_text(sample());
  const std::string p2 = R"(agent="orders \"eu\"",topic="orders",partition="2")";
  EXPECT_TRUE(has_line(text, "kactor_records_processed_total{" + p2 + "} 1000")) << text;
  EXPECT_TRUE(has_line(text, "kactor_records_failed_total{" + p2 + "} 2"));
  EXPECT_TRUE(has_line(text, "kactor_records_retried_total{" + p2 + "} 5"));
  EXPECT_TRUE(has_line(text, "kactor_partition_restored_records_total{" + p2 + "} 22000"));
  EXPECT_TRUE(has_line(text, "kactor_partition_restore_duration_seconds{" + p2 + "} 1.5"));
  EXPECT_TRUE(has_line(text, "kactor_partition_in_flight{" + p2 + "} 17"));
  EXPECT_TRUE(has_line(text, "kactor_partition_lag{" + p2 + "} 98")) << "end 1100 - stored 1002";
  EXPECT_TRUE(has_line(text, "kactor_partition_assigned{" + p2 + "} 1"));
  EXPECT_TRUE(has_line(text, R"(kactor_rebalances_total{agent="orders \"eu\""} 3)"));
  EXPECT_TRUE(has_line(text, R"(kactor_revoke_longest_seconds{agent="orders \"eu\""} 0.0015)"));
  EXPECT_TRUE(has_line(text, R"(kactor_transactions_committed_total{agent="orders \"eu\""} 12)"));
  const std::string a = R"(agent="orders \"eu\"")";
  EXPECT_TRUE(has_line(text, "# TYPE kactor_handler_duration_seconds histogram"));
  EXPECT_TRUE(has_line(text, "kactor_handler_duration_seconds_bucket{" + a + ",le=\"1e-05\"} 900"));
  EXPECT_TRUE(
      has_line(text, "kactor_handler_duration_seconds_bucket{" + a + ",le=\"0.0005\"} 900"));
  EXPECT_TRUE(has_line(text, "kactor_handler_duration_seconds_bucket{" + a + ",le=\"0.001\"} 999"))
      << "buckets are cumulative";
  EXPECT_TRUE(has_line(text, "kactor_handler_duration_seconds_bucket{" + a + ",le=\"5\"} 999"));
  EXPECT_TRUE(has_line(text, "kactor_handler_duration_seconds_bucket{" + a + ",le=\"+Inf\"} 1000"));
  EXPECT_TRUE(has_line(text, "kactor_handler_duration_seconds_sum{" + a + "} 7.25"));
  EXPECT_TRUE(has_line(text, "kactor_handler_duration_seconds_count{" + a + "} 1000"));
  EXPECT_TRUE(has_line(text, "kactor_transaction_commit_duration_seconds_count{" + a + "} 0"));
  EXPECT_TRUE(has_line(text, "# TYPE kactor_records_processed_total counter"));
  EXPECT_TRUE(has_line(text, "# TYPE kactor_partition_lag gauge"));
  // Partition 3 is not held: its offsets are unknown, so no lag sample.
  EXPECT_TRUE(has_line(
      text, R"(kactor_partition_assigned{agent="orders \"eu\"",topic="orders",partition="3"} 0)"));
  EXPECT_EQ(
      text.find(
          "kactor_partition_lag{agent=\"orders \\\"eu\\\"\",topic=\"orders\",partition=\"3\"}"),
      std::string::npos);
}

TEST(metrics, promtool_accepts_the_exposition) {
  test::temp_dir dir;
  const auto path = dir.path + "/metrics.txt";
  {
    std::ofstream f(path);
    f << prometheus_text(sample());
  }
  FILE* check = ::popen(("promtool check metrics < " + path + " 2>&1").c_str(), "r");
  ASSERT_NE(check, nullptr);
  std::string out;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, check)) out.append(buf, n);
  const int status = ::pclose(check);
  ASSERT_NE(status, -1);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "promtool (from Debian's prometheus package): " << out;
  EXPECT_EQ(out, "") << "promtool's lint findings";
}

TEST(metrics, readiness_says_why_an_agent_is_not_ready) {
  auto s = sample();
  EXPECT_TRUE(readiness(s).ok);
  auto& a = s.agents[0];
  a.ready = false;
  a.healthy = false;
  a.unhealthy_cause = "orders/2 escalated";
  a.missing_topics = {"payments"};
  a.partitions[0].restoring = true;
  const auto r = readiness(s);
  EXPECT_FALSE(r.ok);
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["ready"], false);
  ASSERT_EQ(j["agents"].size(), 1u);
  EXPECT_EQ(j["agents"][0]["why"],
            (nlohmann::json::array({"unhealthy: orders/2 escalated",
                                    "topic payments does not exist", "restoring orders/2"})));
  a.healthy = true;
  a.missing_topics.clear();
  a.partitions[0].restoring = false;
  EXPECT_EQ(nlohmann::json::parse(readiness(s).body)["agents"][0]["why"][0],
            "has not joined its group yet");
}

}  // namespace
}  // namespace kactor::detail
