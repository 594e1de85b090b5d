// The kactor command line: `demo` runs a two-agent pipeline on the embedded
// cluster; `lag` reports a consumer group's lag on any cluster.

#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <kactor/kactor.hpp>
#include <nlohmann/json.hpp>

#include "src/lag.hpp"

namespace {

int run_demo(int records, const std::string& brokers) {
  kactor::runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = std::chrono::milliseconds(200);
  kactor::runtime rt(cfg);
  rt.create_topic("orders", 4);
  rt.create_topic("orders.checked", 4);

  // Agent 1, as a CAF behaviour: flags large orders, keeps a per-partition count.
  rt.agent("checker").consume("orders").max_poll_records(100).behavior([](kactor::context& ctx) {
    auto seen = std::make_shared<long>(0);
    return caf::behavior{[&ctx, seen](const kactor::event& e) {
      ++*seen;
      auto amount = std::stol(std::string(e.value().substr(e.value().find(':') + 1)));
      ctx.emit("orders.checked", e.key(), amount > 900 ? "flagged" : "ok",
               {{"checked-by", ctx.agent()}, {"seen-on-partition", std::to_string(*seen)}});
    }};
  });

  // Agent 2, as a plain handler: tallies verdicts.
  std::mutex mx;
  std::map<std::string, long> verdicts;
  rt.agent("tally").consume("orders.checked").on([&](const kactor::event& e, kactor::context&) {
    std::lock_guard lock(mx);
    ++verdicts[std::string(e.value())];
  });

  rt.start();
  for (int i = 0; i < records; ++i)
    rt.emit("orders", "customer-" + std::to_string(i % 37),
            "order-" + std::to_string(i) + ":" + std::to_string((i * 7919) % 1000));
  rt.flush(std::chrono::seconds(10));

  auto tally_done = [&] {
    std::lock_guard lock(mx);
    long n = 0;
    for (auto& [k, v] : verdicts) n += v;
    return n >= records;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!tally_done() && std::chrono::steady_clock::now() < deadline)
    rt.wait_for_stop_request(std::chrono::milliseconds(50));
  const bool complete = tally_done();
  auto stats = rt.stats();
  rt.stop();

  std::printf("kactor demo on %s (%s)\n", rt.embedded() ? "the embedded cluster" : "brokers",
              rt.bootstrap_servers().c_str());
  for (const auto& a : stats.agents) {
    std::uint64_t total = 0;
    for (const auto& p : a.partitions) total += p.processed;
    std::printf("agent %-8s processed %llu records:\n", a.name.c_str(),
                static_cast<unsigned long long>(total));
    for (const auto& p : a.partitions)
      std::printf("  %s[%d]: %llu records, max in flight %zu, paused %llu times\n",
                  p.tp.topic.c_str(), p.tp.partition.value(),
                  static_cast<unsigned long long>(p.processed), p.max_in_flight,
                  static_cast<unsigned long long>(p.pauses));
  }
  std::printf("tally:");
  for (const auto& [k, v] : verdicts) std::printf(" %s=%ld", k.c_str(), v);
  std::printf("\n%s\n", complete ? "demo complete: every order was checked and tallied"
                                 : "demo INCOMPLETE: not every order reached the tally");
  return complete ? 0 : 1;
}

int run_lag(const std::string& brokers, const std::string& group, bool json, int timeout_ms) {
  auto lag = kactor::detail::query_group_lag(brokers, group, std::chrono::milliseconds(timeout_ms));
  if (json) {
    nlohmann::json out{{"group", lag.group}, {"total_lag", lag.total}};
    auto& parts = out["partitions"] = nlohmann::json::array();
    for (const auto& p : lag.partitions)
      parts.push_back({{"topic", p.topic},
                       {"partition", p.partition},
                       {"committed", p.committed},
                       {"end", p.end},
                       {"lag", p.lag}});
    std::cout << out.dump() << "\n";
  } else {
    std::printf("%-30s %9s %12s %12s %10s\n", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG");
    for (const auto& p : lag.partitions)
      std::printf("%-30s %9d %12lld %12lld %10lld\n", p.topic.c_str(), p.partition,
                  static_cast<long long>(p.committed), static_cast<long long>(p.end),
                  static_cast<long long>(p.lag));
    std::printf("total lag: %lld\n", static_cast<long long>(lag.total));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor: Kafka partitions as CAF actors"};
  app.require_subcommand(1);

  auto* demo = app.add_subcommand("demo", "run a two-agent pipeline on the embedded cluster");
  int records = 1000;
  std::string demo_brokers;
  demo->add_option("--records", records, "orders to feed through the pipeline")
      ->check(CLI::Range(1, 1000000));
  demo->add_option("--brokers", demo_brokers, "use these brokers instead of the embedded cluster");

  auto* lag = app.add_subcommand("lag", "report a consumer group's lag per partition");
  std::string brokers, group;
  bool json = false;
  int timeout_ms = 10000;
  lag->add_option("--brokers", brokers, "bootstrap servers")->required();
  lag->add_option("--group", group, "consumer group id")->required();
  lag->add_flag("--json", json, "print JSON");
  lag->add_option("--timeout-ms", timeout_ms, "how long to wait for the cluster")
      ->check(CLI::PositiveNumber);

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  try {
    if (*demo) return run_demo(records, demo_brokers);
    if (*lag) return run_lag(brokers, group, json, timeout_ms);
  } catch (const kactor::config_error& e) {
    std::fprintf(stderr, "kactor: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kactor: %s\n", e.what());
    return 1;
  }
  return 0;
}
