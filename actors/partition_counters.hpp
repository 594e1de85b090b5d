#pragma once
// What a partition actor publishes about itself; read by `runtime::stats`
// from any thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include <kactor/histogram.hpp>

#include "actors/log_limiter.hpp"

namespace kactor::detail {

/// A latency_histogram one thread at a time adds to and any thread reads.
class atomic_histogram {
 public:
  void observe(std::chrono::steady_clock::duration d) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    std::size_t i = 0;
    while (i < bounds_ns.size() && ns > bounds_ns[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(ns > 0 ? ns : 0), std::memory_order_relaxed);
  }
  void add_to(latency_histogram& h) const noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i)
      h.counts[i] += counts_[i].load(std::memory_order_relaxed);
    h.sum_seconds += static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }

 private:
  /// latency_histogram::bounds in nanoseconds.
  static constexpr std::array<std::int64_t, latency_histogram::bounds.size()> bounds_ns{
      10'000,     50'000,     100'000,     500'000,     1'000'000,     5'000'000,
      10'000'000, 50'000'000, 100'000'000, 500'000'000, 1'000'000'000, 5'000'000'000};
  std::array<std::atomic<std::uint64_t>, latency_histogram::bounds.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

/// Counters a partition actor publishes; read by `runtime::stats` from any thread.
struct partition_counters {
  std::atomic<bool> assigned{false};
  /// Offset of the first record an actor took since the assignment; where a
  /// restart rewinds to when nothing was stored yet.
  std::atomic<std::int64_t> first_offset{-1};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> restarts{0};
  /// The supervisor gave up on the partition: it is paused.
  std::atomic<bool> escalated{false};
  /// exactly_once: the offset the last committed transaction holds.
  std::atomic<std::int64_t> committed_offset{-1};
  std::atomic<std::uint64_t> assignments{0};
  std::atomic<std::uint64_t> revocations{0};
  std::atomic<std::uint64_t> processed{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> duplicates_dropped{0};
  std::atomic<std::uint64_t> late_replies{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> max_in_flight{0};
  std::atomic<bool> paused{false};
  std::atomic<std::uint64_t> pauses{0};
  std::atomic<std::uint64_t> resumes{0};
  /// How long each handler call on this partition's records took.
  atomic_histogram handler_latency;
  std::atomic<std::int64_t> stored_offset{-1};
  /// State stores: restoring now (set by the group thread at the assignment,
  /// cleared by the restorer or a revocation), and the records of the
  /// current (or last) restore read so far and to read in all.
  std::atomic<bool> restoring{false};
  std::atomic<std::uint64_t> restored{0};
  std::atomic<std::uint64_t> to_restore{0};
  /// Every changelog record restored into the partition's stores since the
  /// process started (never reset), and how long the current (or last)
  /// restore has run, in microseconds.
  std::atomic<std::uint64_t> restored_total{0};
  std::atomic<std::int64_t> restore_us{0};
  /// The partition's warnings, for its current actor only (so a restart
  /// does not reset the limit); and how many it held back.
  log_limiter warnings;
  std::atomic<std::uint64_t> warnings_held_back{0};

  /// Marks the partition escalated, for `cause`; the first cause stays.
  void escalate(std::string cause) {
    std::lock_guard lock(mx_);
    if (!escalated.exchange(true)) escalation_ = std::move(cause);
  }
  /// Why the partition escalated (empty if it did not).
  std::string escalation() const {
    std::lock_guard lock(mx_);
    return escalation_;
  }
  /// A new assignment: no longer escalated.
  void clear_escalation() {
    std::lock_guard lock(mx_);
    escalated = false;
    escalation_.clear();
  }

 private:
  mutable std::mutex mx_;
  std::string escalation_;
};

}  // namespace kactor::detail
