#pragma once
// The decisions supervision makes, as plain code the unit tests call: what to
// do with a failed record, how long to back off, and when restarting a
// partition actor has failed too often.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <random>

#include <kactor/config.hpp>
#include <kactor/error.hpp>

namespace kactor::detail {

using millis = std::chrono::milliseconds;

/// Exponential backoff: attempt n (1-based) waits a uniformly drawn time in
/// [d/2, d] with d = min(max, base * 2^(n-1)). The jitter keeps partitions
/// that failed together from retrying in lockstep.
class backoff {
 public:
  backoff(millis base, millis max, std::uint64_t seed = std::random_device{}())
      : base_(base), max_(std::max(base, max)), rng_(seed) {}

  /// The cap for attempt `n` before jitter.
  millis ceiling(std::size_t n) const {
    auto d = base_;
    for (std::size_t i = 1; i < n && d < max_; ++i) d *= 2;
    return std::min(d, max_);
  }

  millis next(std::size_t n) {
    auto cap = ceiling(n).count();
    std::uniform_int_distribution<millis::rep> dist(cap / 2, cap);
    return millis(dist(rng_));
  }

 private:
  millis base_;
  millis max_;
  std::mt19937_64 rng_;
};

/// What happens to a record whose handler failed.
enum class failure_step {
  retry,        ///< run the handler again after a backoff; the partition waits
  dead_letter,  ///< give up on the record: to the dead-letter topic
  crash,        ///< fatal: the partition actor dies and its supervisor decides
};

/// `attempts` counts handler runs so far, including the failed one.
inline failure_step next_step(error_class cls, std::size_t attempts, std::size_t max_retries) {
  switch (cls) {
    case error_class::fatal:
      return failure_step::crash;
    case error_class::irrecoverable:
      return failure_step::dead_letter;
    case error_class::retriable:
    case error_class::abortable:
      break;
  }
  return attempts <= max_retries ? failure_step::retry : failure_step::dead_letter;
}

/// Restart intensity: at most `max_restarts` restarts within `window`.
class restart_intensity {
 public:
  using clock = std::chrono::steady_clock;

  restart_intensity(std::size_t max_restarts, millis window)
      : max_(max_restarts), window_(window) {}

  /// Records a restart at `now` if the limit allows one; false means escalate.
  bool allow(clock::time_point now) {
    while (!times_.empty() && now - times_.front() >= window_) times_.pop_front();
    if (times_.size() >= max_) return false;
    times_.push_back(now);
    return true;
  }

  /// Restarts within the current window.
  std::size_t recent() const { return times_.size(); }

 private:
  std::size_t max_;
  millis window_;
  std::deque<clock::time_point> times_;
};

}  // namespace kactor::detail
