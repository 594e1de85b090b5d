// `kactor bench rebalance` on the real broker, run as a user runs it: its
// members are separate processes. A cooperative join keeps the partitions
// that do not move flowing; eager assignment revokes them; a static member
// restarting gets its partitions back without waiting out its session; the
// JSON and the SVG have the shape documented; bad flags and a dead broker
// get a clear error.

#include <cstdio>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;

struct cli_result {
  int status = -1;
  std::string output;  // stdout and stderr
  nlohmann::json report;
};

/// Runs `kactor bench rebalance --brokers <broker> <args>` to completion.
cli_result bench(const std::string& brokers, const std::vector<std::string>& args,
                 std::chrono::seconds timeout = std::chrono::seconds(300)) {
  std::vector<std::string> argv{std::getenv("KACTOR_CLI_EXE"), "bench", "rebalance", "--brokers",
                                brokers};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto log = test::unique_name("/tmp/kactor-rebalance-bench") + ".log";
  test::child_process cli(argv, log);
  cli_result out;
  out.status = cli.wait(timeout);
  out.output = test::read_file(log);
  // The report is the one line of stdout that starts with '{'.
  std::istringstream lines(out.output);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line.front() == '{') out.report = nlohmann::json::parse(line);
  std::remove(log.c_str());
  return out;
}

class rebalance_bench : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = test::kafka_bootstrap();
    ASSERT_FALSE(brokers_.empty()) << "KACTOR_KAFKA_DIR is not set";
  }
  std::string brokers_;
};

void expect_summary(const nlohmann::json& summary, const char* key, std::size_t n) {
  ASSERT_TRUE(summary.contains(key)) << key;
  EXPECT_EQ(summary[key]["n"], n) << key;
  for (const char* q : {"p50", "p99", "max"}) EXPECT_TRUE(summary[key][q].is_number()) << key;
  EXPECT_LE(summary[key]["p50"].get<double>(), summary[key]["max"].get<double>()) << key;
}

TEST_F(rebalance_bench, cooperative_join_keeps_unmoved_partitions_flowing) {
  const auto svg = test::unique_name("/tmp/kactor-rebalance-bench") + ".svg";
  const auto r = bench(brokers_, {"--repetitions", "2", "--json", "--svg", svg});
  ASSERT_EQ(r.status, 0) << r.output;
  const auto& j = r.report;
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j["scenario"], "join");
  EXPECT_EQ(j["members"], (nlohmann::json{{"before", 1}, {"after", 2}}));
  EXPECT_EQ(j["assignor"], "cooperative-sticky");
  EXPECT_EQ(j["static"], false);
  EXPECT_EQ(j["partitions"], 8);
  EXPECT_EQ(j["rate"], 2000);
  EXPECT_EQ(j["repetitions"], 2);
  const auto& s = j["summary"];
  expect_summary(s, "moved_first_record_ms", 8);
  expect_summary(s, "unmoved_longest_gap_ms", 8);
  for (const char* key :
       {"steady_gap_ms", "settle_ms", "unmoved_revoked", "revoke_callback_ms", "steady_cpu_ms"})
    expect_summary(s, key, 2);
  // Cooperative: the partitions member 1 keeps are never revoked, and their
  // longest gap across the rebalance stays near the steady-state one (the
  // bound is loose for a noisy 2-core machine; the bench reports the figure).
  EXPECT_EQ(s["unmoved_revoked"]["max"], 0);
  EXPECT_LT(s["unmoved_longest_gap_ms"]["max"].get<double>(), 250.0);

  ASSERT_EQ(j["runs"].size(), 2u);
  for (const auto& run : j["runs"]) {
    std::set<int> partitions;
    ASSERT_EQ(run["moved"].size(), 4u) << run.dump();
    for (const auto& m : run["moved"]) {
      EXPECT_EQ(m["from"], 1);
      EXPECT_EQ(m["to"], 2);
      EXPECT_GT(m["first_record_ms"].get<double>(), 0);
      EXPECT_LE(m["first_record_ms"].get<double>(), run["settle_ms"].get<double>());
      ASSERT_TRUE(m.contains("restore_ms"));
      EXPECT_TRUE(m["restore_ms"].is_null()) << "no state stores yet";
      partitions.insert(m["partition"].get<int>());
    }
    ASSERT_EQ(run["unmoved"].size(), 4u);
    for (const auto& u : run["unmoved"]) {
      EXPECT_EQ(u["member"], 1);
      EXPECT_EQ(u["revoked"], false);
      EXPECT_GT(u["longest_gap_ms"].get<double>(), 0);
      partitions.insert(u["partition"].get<int>());
    }
    EXPECT_EQ(partitions, (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_GT(run["steady_gap_ms"].get<double>(), 0);
  }

  const auto drawn = test::render_svg(svg);
  EXPECT_EQ(drawn.lanes, 8);
  EXPECT_EQ(drawn.lanes_drawn, 8);
  ASSERT_EQ(drawn.marks.size(), 2u);
  EXPECT_GT(drawn.marks.at("1"), 1000) << "member 1 alone handles ~2000 records/s for a second";
  EXPECT_GT(drawn.marks.at("2"), 0);
  EXPECT_EQ(drawn.marks_in_lane, drawn.marks_drawn);
  EXPECT_EQ(drawn.marks_drawn, drawn.marks.at("1") + drawn.marks.at("2"));
  EXPECT_NE(drawn.fills.at("1"), drawn.fills.at("2"));
  const std::set<std::string> events(drawn.events.begin(), drawn.events.end());
  EXPECT_TRUE(events.count("member 2 starts")) << r.output;
  EXPECT_TRUE(events.count("settled"));
  std::remove(svg.c_str());
  std::remove((svg + ".html").c_str());
}

TEST_F(rebalance_bench, eager_join_revokes_every_partition) {
  const auto r = bench(brokers_, {"--repetitions", "1", "--json", "--assignor", "range"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.report["assignor"], "range");
  const auto& run = r.report["runs"].at(0);
  EXPECT_EQ(run["moved"].size() + run["unmoved"].size(), 8u);
  EXPECT_EQ(run["unmoved_revoked"].get<std::size_t>(), run["unmoved"].size()) << run.dump();
}

TEST_F(rebalance_bench, static_member_restarting_keeps_its_partitions_without_a_rebalance) {
  // A 10 s session: a member coming back as itself must not wait it out.
  const auto r = bench(brokers_, {"--scenario", "restart", "--static", "--repetitions", "1",
                                  "--session-timeout-ms", "10000", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.report["static"], true);
  const auto& run = r.report["runs"].at(0);
  ASSERT_EQ(run["moved"].size(), 4u) << run.dump();
  for (const auto& m : run["moved"]) {
    EXPECT_EQ(m["from"], 2);
    EXPECT_EQ(m["to"], 3) << "the restarted process is member 3";
    EXPECT_LT(m["first_record_ms"].get<double>(), 5000.0);
  }
  for (const auto& u : run["unmoved"]) {
    EXPECT_EQ(u["member"], 1);
    EXPECT_EQ(u["revoked"], false);
  }
}

TEST_F(rebalance_bench, bad_flags_and_a_dead_broker_get_a_clear_error) {
  auto r = bench(brokers_, {"--scenario", "join", "--members", "2:1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--members 2:1 does not fit --scenario join"), std::string::npos)
      << r.output;
  r = bench(brokers_, {"--members", "two"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--members: invalid value 'two'; expected BEFORE:AFTER"),
            std::string::npos)
      << r.output;
  r = bench(brokers_, {"--members", "1:9"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("more members than --partitions 8"), std::string::npos) << r.output;
  r = bench(brokers_, {"--assignor", "sticky"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--assignor"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cooperative-sticky,range,roundrobin"), std::string::npos) << r.output;

  r = bench("127.0.0.1:9", {"--repetitions", "1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("cannot reach the Kafka brokers 127.0.0.1:9"), std::string::npos)
      << r.output;
}

}  // namespace
