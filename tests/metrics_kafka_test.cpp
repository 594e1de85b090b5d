// A real Prometheus server (Debian's prometheus) scrapes a runtime on the
// real broker: what it stores matches runtime::stats() and the broker's end
// offsets.

#include <kactor/kactor.hpp>

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <numeric>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "src/cli/child_process.hpp"
#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

/// A TCP port free on 127.0.0.1 now (for a server that cannot pick its own).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// The value of a PromQL query returning one number, or -1 while it returns none.
double query(httplib::Client& prometheus, const std::string& promql) {
  const auto r = prometheus.Get("/api/v1/query", httplib::Params{{"query", promql}}, {});
  if (!r || r->status != 200) return -1;
  const auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || j["data"]["result"].empty()) return -1;
  const std::string value = j["data"]["result"][0]["value"][1];
  return std::stod(value);
}

TEST(metrics_kafka, a_prometheus_server_scrapes_what_stats_and_the_broker_say) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  ASSERT_NE(std::getenv("KACTOR_PROMETHEUS_EXE"), nullptr);
  const auto topic = test::unique_name("scraped");
  test::create_topic(brokers, topic, 4);
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 1000; ++i) records.emplace_back("k" + std::to_string(i), "v");
  test::produce_all(brokers, topic, records);

  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = 100ms;
  cfg.metrics.listen = "127.0.0.1:0";
  runtime rt(cfg);
  rt.agent("scraped").consume(topic).group(topic).on([](const event&, context&) {});
  rt.start();
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished() == 1000; }, 60s));

  test::temp_dir dir;
  const int port = free_port();
  {
    std::ofstream yml(dir.path + "/prometheus.yml");
    yml << "global: {scrape_interval: 1s}\n"
           "scrape_configs:\n"
           "  - job_name: kactor\n"
           "    static_configs: [{targets: ['127.0.0.1:"
        << rt.metrics_port() << "']}]\n";
  }
  test::child_process prometheus(
      {std::getenv("KACTOR_PROMETHEUS_EXE"), "--config.file=" + dir.path + "/prometheus.yml",
       "--storage.tsdb.path=" + dir.path + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(port)},
      dir.path + "/prometheus.log");
  httplib::Client api("127.0.0.1", port);
  // Scraped once the processed count it stores is the runtime's.
  ASSERT_TRUE(test::eventually(
      [&] { return query(api, "sum(kactor_records_processed_total{agent=\"scraped\"})") == 1000; },
      60s))
      << "targets: " <<
      [&] {
        const auto t = api.Get("/api/v1/targets");
        return t ? t->body : httplib::to_string(t.error());
      }()
      << "\nlog: " << test::read_file(dir.path + "/prometheus.log");
  const auto ends = test::end_offsets(brokers, topic, "read_uncommitted");
  const auto end_sum = std::accumulate(ends.begin(), ends.end(), std::int64_t{0});
  EXPECT_EQ(end_sum, 1000);
  EXPECT_TRUE(test::eventually(
      [&] {
        return query(api, "sum(kactor_partition_end_offset{agent=\"scraped\"})") == end_sum &&
               query(api, "sum(kactor_partition_lag{agent=\"scraped\"})") == 0;
      },
      30s))
      << "end offsets as the broker says, lag 0";
  EXPECT_EQ(query(api, "kactor_agent_ready{agent=\"scraped\"}"), 1);
  EXPECT_EQ(query(api, "count(kactor_partition_assigned{agent=\"scraped\"} == 1)"), 4);
  prometheus.signal(SIGTERM);
  prometheus.wait(30s);
}

}  // namespace
