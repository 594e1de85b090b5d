#pragma once
// Latency distributions in runtime statistics (see `agent_stats`).

#include <array>
#include <cstddef>
#include <cstdint>

namespace kactor {

/// A latency distribution as a Prometheus histogram keeps it: observations
/// counted in fixed buckets. Counts cover the runtime's whole life.
struct latency_histogram {
  /// Upper bounds of the buckets in seconds: `counts[i]` holds what took more
  /// than `bounds[i-1]` and at most `bounds[i]`; the last count holds what
  /// took more than 5 s.
  static constexpr std::array<double, 12> bounds{0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005,
                                                 0.01,    0.05,    0.1,    0.5,    1.0,   5.0};
  std::array<std::uint64_t, bounds.size() + 1> counts{};
  /// Every observation added up, in seconds.
  double sum_seconds = 0;
  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (auto c : counts) n += c;
    return n;
  }
  latency_histogram& operator+=(const latency_histogram& other) noexcept {
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
    sum_seconds += other.sum_seconds;
    return *this;
  }
};

}  // namespace kactor
