#pragma once
// Writes a runtime's stats as one JSON document, replaced atomically, so a
// supervisor (or a test) can watch a running agent from outside.

#include <fstream>
#include <string>
#include <thread>

#include <cstdio>

#include <kactor/kactor.hpp>
#include <nlohmann/json.hpp>

namespace examples {

inline long resident_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

/// The sum of `field(partition)` over agent `agent`'s partitions.
template <class Field>
std::uint64_t sum(const kactor::runtime& rt, const std::string& agent, Field field) {
  std::uint64_t n = 0;
  const auto stats = rt.stats();
  for (const auto& a : stats.agents)
    if (a.name == agent)
      for (const auto& p : a.partitions) n += field(p);
  return n;
}

/// Records agent `agent` has processed so far.
inline std::uint64_t processed(const kactor::runtime& rt, const std::string& agent) {
  return sum(rt, agent, [](const kactor::partition_stats& p) { return p.processed; });
}

inline nlohmann::json to_json(const kactor::runtime_stats& s) {
  nlohmann::json out;
  out["rss_kib"] = resident_kib();
  auto& agents = out["agents"] = nlohmann::json::array();
  for (const auto& a : s.agents) {
    nlohmann::json ja{{"name", a.name},
                      {"group", a.group},
                      {"healthy", a.healthy},
                      {"dead_letter_topic", a.dead_letter_topic},
                      {"rebalances", a.rebalances},
                      {"transactions_committed", a.transactions_committed},
                      {"transactions_aborted", a.transactions_aborted},
                      {"producer_resets", a.producer_resets},
                      {"barrier_wait_us", a.barrier_wait.count()},
                      {"commit_time_us", a.commit_time.count()},
                      {"emitted", a.emitted},
                      {"delivery_failures", a.delivery_failures}};
    auto& parts = ja["partitions"] = nlohmann::json::array();
    for (const auto& p : a.partitions)
      parts.push_back({{"topic", p.tp.topic},
                       {"partition", p.tp.partition.value()},
                       {"assigned", p.assigned},
                       {"assignments", p.assignments},
                       {"revocations", p.revocations},
                       {"processed", p.processed},
                       {"failed", p.failed},
                       {"in_flight", p.in_flight},
                       {"max_in_flight", p.max_in_flight},
                       {"paused", p.paused},
                       {"pauses", p.pauses},
                       {"resumes", p.resumes},
                       {"stored_offset", p.stored_offset},
                       {"retries", p.retries},
                       {"dead_lettered", p.dead_lettered},
                       {"restarts", p.restarts},
                       {"restoring", p.restoring},
                       {"restored", p.restored},
                       {"to_restore", p.to_restore},
                       {"escalated", p.escalated}});
    agents.push_back(std::move(ja));
  }
  return out;
}

/// Rewrites `path` with the current stats every `interval` until stopped.
class stats_file {
 public:
  stats_file(const kactor::runtime& rt, std::string path, std::chrono::milliseconds interval)
      : rt_(rt), path_(std::move(path)), interval_(interval) {
    if (!path_.empty()) thread_ = std::thread([this] { loop(); });
  }
  ~stats_file() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    write();
  }
  void write() const {
    if (path_.empty()) return;
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp);
      out << to_json(rt_.stats()).dump() << "\n";
    }
    std::rename(tmp.c_str(), path_.c_str());
  }

 private:
  void loop() {
    while (!stop_) {
      write();
      std::this_thread::sleep_for(interval_);  // a sampling period, not synchronisation
    }
  }
  const kactor::runtime& rt_;
  std::string path_;
  std::chrono::milliseconds interval_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace examples
