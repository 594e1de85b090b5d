// The metrics and health endpoint of a runtime on the embedded cluster, as an
// operator's tools see it over HTTP: /readyz refuses until the agent joined
// and says why, /metrics counts what `runtime::stats()` counts, /healthz
// answers, and the endpoint is gone after stop. A port in use is refused at
// start naming metrics.listen.

#include <kactor/kactor.hpp>

#include <httplib.h>

#include <map>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

/// The sum of a metric's samples over its labels.
double sum_of(const std::string& text, const std::string& name) {
  double sum = 0;
  const std::regex sample("^" + name + "\\{[^}]*\\} ([0-9.e+-]+)$");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, sample)) sum += std::stod(m[1]);
  }
  return sum;
}

TEST(metrics_mock, probes_and_metrics_follow_the_runtime) {
  runtime_config cfg;
  cfg.commit_interval = 100ms;
  cfg.metrics.listen = "127.0.0.1:0";
  runtime rt(cfg);
  rt.create_topic("orders", 3);
  rt.agent("counter").consume("orders").on([](const event&, context&) {});
  for (int i = 0; i < 300; ++i) rt.emit("orders", "k" + std::to_string(i), "v");
  ASSERT_TRUE(rt.flush(30s));
  EXPECT_EQ(rt.metrics_port(), 0) << "not serving before start";
  rt.start();
  ASSERT_GT(rt.metrics_port(), 0);
  httplib::Client http("127.0.0.1", rt.metrics_port());
  // The embedded cluster's first join takes 3 s: not ready yet, and why.
  auto ready = http.Get("/readyz");
  ASSERT_TRUE(ready) << httplib::to_string(ready.error());
  EXPECT_EQ(ready->status, 503);
  const auto why = nlohmann::json::parse(ready->body);
  EXPECT_EQ(why["agents"][0]["agent"], "counter");
  EXPECT_EQ(why["agents"][0]["why"][0], "has not joined its group yet");
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished() == 300; }, 60s));
  ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  const auto live = http.Get("/healthz");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  const auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  EXPECT_EQ(sum_of(metrics->body, "kactor_records_processed_total"), 300) << metrics->body;
  EXPECT_EQ(sum_of(metrics->body, "kactor_partition_assigned"), 3);
  EXPECT_EQ(sum_of(metrics->body, "kactor_agent_ready"), 1);
  // Lag: each partition's end as its consumer saw it, minus its stored
  // offset; 0 once all is handled and stored.
  ASSERT_TRUE(test::eventually(
      [&] {
        const auto m = http.Get("/metrics");
        return m && sum_of(m->body, "kactor_partition_end_offset") == 300 &&
               sum_of(m->body, "kactor_partition_lag") == 0;
      },
      30s));
  const auto port = rt.metrics_port();
  rt.stop();
  EXPECT_EQ(rt.metrics_port(), 0);
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(2s);
  EXPECT_FALSE(after.Get("/healthz")) << "the endpoint stops with the runtime";
}

TEST(metrics_mock, a_port_in_use_is_refused_at_start_naming_the_key) {
  runtime_config cfg;
  cfg.metrics.listen = "127.0.0.1:0";
  runtime first(cfg);
  first.create_topic("t", 1);
  first.agent("a").consume("t").on([](const event&, context&) {});
  first.start();
  cfg.metrics.listen = "127.0.0.1:" + std::to_string(first.metrics_port());
  runtime second(cfg);
  second.create_topic("t", 1);
  second.agent("a").consume("t").on([](const event&, context&) {});
  try {
    second.start();
    FAIL() << "started on a port in use";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.listen"), std::string::npos) << e.what();
  }
}

TEST(metrics_mock, a_malformed_listen_address_names_the_key_and_the_form) {
  runtime_config cfg;
  cfg.metrics.listen = "localhost:http";
  try {
    runtime rt(cfg);
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.listen: invalid value 'localhost:http'"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
