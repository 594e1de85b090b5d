#include "src/cli/demo.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include <ecommerce/pipeline.hpp>
#include <kactor/kactor.hpp>

namespace kactor::detail {

namespace {

/// One agent's line in the view, summed over its partitions.
struct agent_row {
  std::string name;
  std::uint64_t processed = 0, in_flight = 0, retries = 0, dead_lettered = 0;
  /// Records not yet committed; -1 while a partition's position is unknown.
  std::int64_t lag = 0;
};

std::vector<agent_row> rows(const runtime_stats& stats) {
  std::vector<agent_row> out;
  for (const auto& a : stats.agents) {
    agent_row r{a.name};
    for (const auto& p : a.partitions) {
      r.processed += p.processed;
      r.in_flight += p.in_flight;
      r.retries += p.retries;
      r.dead_lettered += p.dead_lettered;
      if (!p.assigned) continue;
      // A partition that never had a record has nothing to commit.
      const auto lag = p.end_offset == 0 ? 0 : p.lag();
      r.lag = r.lag < 0 || lag < 0 ? -1 : r.lag + lag;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string lag_text(std::int64_t lag) {
  return lag < 0 ? "?" : std::to_string(lag);
}

void print_rows(const std::vector<agent_row>& rs, const char* line_start) {
  std::printf("%s%-13s %10s %8s %10s %8s %8s\n", line_start, "agent", "processed", "lag",
              "in flight", "retries", "DLQ");
  for (const auto& r : rs)
    std::printf("%s%-13s %10llu %8s %10llu %8llu %8llu\n", line_start, r.name.c_str(),
                static_cast<unsigned long long>(r.processed), lag_text(r.lag).c_str(),
                static_cast<unsigned long long>(r.in_flight),
                static_cast<unsigned long long>(r.retries),
                static_cast<unsigned long long>(r.dead_lettered));
}

}  // namespace

int run_demo(int orders, const std::string& brokers) {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = std::chrono::milliseconds(200);
  // Retries and dead letters are the pipeline's normal flow here: the view
  // counts them instead of a warning line each.
  cfg.log.level = log_level::error;
  runtime rt(cfg);
  const ecommerce::topics topics;
  for (const auto& t : topics.all()) rt.create_topic(t, 4);
  ecommerce::settings s;
  s.exactly_once_fraud = !rt.embedded();
  ecommerce::define(rt, s);
  ecommerce::ledger ledger(rt, "");
  std::printf("kactor demo: the e-commerce pipeline of examples/ecommerce on %s (%s)\n",
              rt.embedded() ? "the embedded cluster" : "brokers", rt.bootstrap_servers().c_str());
  std::printf("%s\n", rt.embedded() ? "fraud runs at_least_once: the embedded cluster has no "
                                      "transactions (give --brokers for exactly_once)"
                                    : "fraud runs exactly_once");
  rt.stop_on_signals();
  rt.start();
  for (int n = 0; n < orders; ++n) {
    const auto o = ecommerce::make_order(n);
    rt.emit(topics.received, o.id, ecommerce::encode(o));
  }
  rt.flush(std::chrono::seconds(10));

  const bool terminal = isatty(STDOUT_FILENO) == 1;
  const auto wanted = static_cast<std::size_t>(orders);
  const auto settled = [&](const std::vector<agent_row>& rs) {
    return ledger.orders() >= wanted &&
           std::all_of(rs.begin(), rs.end(), [](const agent_row& r) { return r.lag == 0; });
  };
  const auto start = std::chrono::steady_clock::now();
  auto last_print = start - std::chrono::seconds(2);
  std::size_t drawn = 0;
  auto view = rows(rt.stats());
  while (!settled(view) && std::chrono::steady_clock::now() - start < std::chrono::seconds(120)) {
    if (rt.wait_for_stop_request(std::chrono::milliseconds(200))) break;
    view = rows(rt.stats());
    const auto now = std::chrono::steady_clock::now();
    if (terminal) {
      // Back over the last view, each line cleared as it is redrawn.
      if (drawn > 0) std::printf("\x1b[%zuA", drawn);
      print_rows(view, "\r\x1b[K");
      std::printf("\r\x1b[Korders ended: %zu of %d\n", ledger.orders(), orders);
      drawn = view.size() + 2;
      std::fflush(stdout);
    } else if (now - last_print >= std::chrono::seconds(2)) {
      last_print = now;
      std::printf("after %.1f s: orders ended %zu of %d\n",
                  std::chrono::duration<double>(now - start).count(), ledger.orders(), orders);
    }
  }
  view = rows(rt.stats());
  const bool complete = settled(view) && ledger.conflicting() == 0;
  rt.stop();

  std::printf("\n");
  print_rows(view, "");
  using ecommerce::outcome;
  std::printf("\norders %d: completed %zu, failed %zu, dead-lettered %zu, with two outcomes %zu\n",
              orders, ledger.count(outcome::completed), ledger.count(outcome::failed),
              ledger.count(outcome::dead_lettered), ledger.conflicting());
  std::printf("%s\n", complete ? "demo complete: every order ended once and every agent's lag is 0"
                               : "demo INCOMPLETE: not every order ended, or lag remains");
  return complete ? 0 : 1;
}

}  // namespace kactor::detail
