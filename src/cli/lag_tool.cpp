#include "src/cli/lag_tool.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "src/cli/progress.hpp"
#include "src/kafka/admin.hpp"

namespace kactor::detail {

namespace {

void print_lag(const group_lag& lag, bool json) {
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
}

}  // namespace

int run_lag(const std::string& brokers, const std::string& group, bool json, int timeout_ms) {
  print_lag(query_group_lag(brokers, group, std::chrono::milliseconds(timeout_ms)), json);
  return 0;
}

int watch_lag(const std::string& brokers, const std::string& group, bool json, int timeout_ms,
              int every_ms, int for_s) {
  const auto query = [&] {
    return query_group_lag(brokers, group, std::chrono::milliseconds(timeout_ms));
  };
  auto lag = query();
  const auto start = lag.total;
  std::cerr << "kactor lag: following group " << group << ", " << start << " record(s) behind"
            << std::endl;
  progress_reporter progress(std::cerr, "kactor lag: " + group + " caught up", start,
                             stderr_is_terminal(), std::chrono::milliseconds(every_ms));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(for_s);
  while (lag.total > 0 && (for_s == 0 || std::chrono::steady_clock::now() < deadline)) {
    // The sampling interval of a remote figure, not a wait for a condition
    // this process could be told about.
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(every_ms, 200)));
    lag = query();
    progress.update(std::max<std::int64_t>(0, start - lag.total),
                    std::to_string(lag.total) + " to go");
  }
  progress.finish();
  print_lag(lag, json);
  return lag.total == 0 ? 0 : 1;
}

}  // namespace kactor::detail
