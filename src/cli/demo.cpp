#include "src/cli/demo.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include <caf/all.hpp>
#include <kactor/kactor.hpp>

namespace kactor::detail {

int run_demo(int records, const std::string& brokers) {
  kactor::runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = std::chrono::milliseconds(200);
  cfg.log.level = kactor::log_level::warn;
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

}  // namespace kactor::detail
