#pragma once
// Helpers shared by kactor's benchmarks: which cluster to run against, flags
// with environment fallbacks, end offsets, and order statistics.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <kactor/kactor.hpp>

#include "src/kafka_handles.hpp"
#include "tests/test_support.hpp"

namespace kactor::bench {

/// The cluster a benchmark process talks to: the broker named by the
/// KACTOR_BROKERS environment variable, or else librdkafka's embedded mock
/// cluster, owned by a kactor runtime with no agents that lives as long as
/// this object (the mock runs inside this process and competes for its CPUs).
class cluster {
 public:
  cluster() {
    const char* env = std::getenv("KACTOR_BROKERS");
    if (env && *env) {
      brokers_ = env;
      return;
    }
    owner_ = std::make_unique<runtime>();
    brokers_ = owner_->bootstrap_servers();
  }

  const std::string& brokers() const { return brokers_; }
  bool embedded() const { return owner_ != nullptr; }

  /// "real broker 127.0.0.1:9092 (KACTOR_BROKERS)" or "embedded mock cluster ...".
  std::string describe() const {
    return embedded() ? "embedded mock cluster " + brokers_ + " (KACTOR_BROKERS unset)"
                      : "real broker " + brokers_ + " (KACTOR_BROKERS)";
  }

  /// Creates a topic: with the Admin API on a real broker; on the mock
  /// cluster through its owner, the only way to get more than one partition.
  void create_topic(const std::string& name, int partitions) const {
    if (owner_)
      owner_->create_topic(name, partitions);
    else
      test::create_topic(brokers_, name, partitions);
  }

 private:
  std::unique_ptr<runtime> owner_;
  std::string brokers_;
};

/// Removes `--name=N` from argv if present and returns N; else the value of
/// environment variable `env` if set; else `fallback`. Call before
/// benchmark::Initialize, which rejects flags it does not know.
inline std::int64_t take_int_flag(int& argc, char** argv, const std::string& name, const char* env,
                                  std::int64_t fallback) {
  const std::string prefix = name + "=";
  std::int64_t value = fallback;
  if (const char* e = std::getenv(env); e && *e) value = std::stoll(e);
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0)
      value = std::stoll(argv[i] + prefix.size());
    else
      argv[out++] = argv[i];
  }
  argc = out;
  argv[argc] = nullptr;
  if (value <= 0) throw std::invalid_argument(name + " must be positive");
  return value;
}

/// argv with `defaults` inserted right after the program name, so that
/// benchmark flags given on the command line (parsed later) override them.
inline std::vector<char*> with_default_flags(int argc, char** argv,
                                             const std::vector<const char*>& defaults) {
  std::vector<char*> out{argv[0]};
  for (const char* d : defaults) out.push_back(const_cast<char*>(d));
  out.insert(out.end(), argv + 1, argv + argc);
  out.push_back(nullptr);
  return out;
}

/// Polls `pred` every millisecond until it holds or `timeout` passes; returns
/// its last value. A condition is thus seen at most about 1 ms after it holds.
inline bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// The end (high watermark) offset of each partition of `topic`.
inline std::vector<std::int64_t> end_offsets(const std::string& brokers, const std::string& topic,
                                             int partitions) {
  detail::property_list props{{"", "bootstrap.servers", brokers}};
  auto rk = detail::make_client(RD_KAFKA_PRODUCER, detail::make_conf(props));
  std::vector<std::int64_t> ends(static_cast<std::size_t>(partitions));
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = 0;
    if (auto err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &lo,
                                                    &ends[static_cast<std::size_t>(p)], 10000))
      throw kafka_exception(detail::make_error(err, "end offsets of " + topic));
  }
  return ends;
}

/// The `q` quantile (0..1) of `v`, interpolating linearly between the closest
/// ranks (so q = 0.5 is the median Google Benchmark reports); NaN if empty.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

/// Adds p99 and max to the aggregates Google Benchmark computes over
/// repetitions (mean, median, stddev, cv), for times and counters alike.
inline benchmark::internal::Benchmark* with_tail_statistics(benchmark::internal::Benchmark* b) {
  return b->ComputeStatistics("p99", [](const std::vector<double>& v) { return quantile(v, 0.99); })
      ->ComputeStatistics("max", [](const std::vector<double>& v) { return quantile(v, 1.0); });
}

/// A 100-byte record value that still says which record it is.
inline std::string payload(std::int64_t i) {
  std::string v = "record-" + std::to_string(i) + "-";
  v.resize(100, 'x');
  return v;
}

}  // namespace kactor::bench
