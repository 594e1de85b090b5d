#pragma once
// Keeps one partition's repeated warnings from flooding the log: a record
// retried ten times must not write thirty lines.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace kactor::detail {

/// Lets through at most `burst` lines per `window` and counts the rest. Not
/// thread-safe: one partition's current actor uses it.
class log_limiter {
 public:
  using clock = std::chrono::steady_clock;

  explicit log_limiter(std::size_t burst = 5,
                       std::chrono::milliseconds window = std::chrono::seconds(10))
      : burst_(burst), window_(window) {}

  /// Whether a line at `now` may be written: nullopt if not (it is counted),
  /// otherwise how many lines were held back since the last one written.
  std::optional<std::uint64_t> admit(clock::time_point now) {
    if (used_ == 0 || now - window_start_ >= window_) {
      window_start_ = now;
      used_ = 0;
    }
    if (used_ >= burst_) {
      ++held_back_;
      ++total_held_back_;
      return std::nullopt;
    }
    ++used_;
    const auto held = held_back_;
    held_back_ = 0;
    return held;
  }

  /// Every line held back so far.
  std::uint64_t held_back() const noexcept { return total_held_back_; }

 private:
  std::size_t burst_;
  std::chrono::milliseconds window_;
  clock::time_point window_start_{};
  std::size_t used_ = 0;
  std::uint64_t held_back_ = 0;
  std::uint64_t total_held_back_ = 0;
};

}  // namespace kactor::detail
