#pragma once
// A paced producer: a steady live feed for rebalance measurements.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// Produces `rate` records/s to `topic` from its own thread, round robin
/// over its `partitions` partitions in 1 ms ticks, values from `value(i)`,
/// until destroyed (then flushes for up to 5 s). Delivery failures are not
/// reported: the feed is a load, not data. The ticks pace the feed; nothing
/// waits on them. Owns its producer handle and thread.
class steady_feeder {
 public:
  steady_feeder(const std::string& brokers, std::string topic, int partitions, std::int64_t rate,
                std::function<std::string(std::int64_t)> value);
  ~steady_feeder();
  steady_feeder(const steady_feeder&) = delete;
  steady_feeder& operator=(const steady_feeder&) = delete;

 private:
  void run();

  std::string topic_;
  int partitions_;
  handle_ptr rk_;
  std::int64_t rate_;
  std::function<std::string(std::int64_t)> value_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kactor::detail
