#pragma once
// The part of an agent's prefetch budget that bounds the records its
// partition actors hold, divided over the tasks its member holds. Plain code
// so that unit tests call it directly.

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace kactor::detail {

/// The part of an agent's `prefetch_budget_mb` (in bytes) for the records
/// its actors hold: taken from librdkafka, not yet finished. librdkafka's
/// fetches and queues get the rest (`divide_prefetch_budget`).
constexpr std::uint64_t in_flight_part(std::uint64_t budget_bytes) {
  return budget_bytes / 8;
}

/// What a held record counts besides its key and value: librdkafka's
/// message and op, and the actor's record slot.
constexpr std::size_t held_record_overhead = 256;

/// The bytes a held record counts against its actor's share.
constexpr std::size_t held_bytes(std::size_t key_bytes, std::size_t value_bytes) {
  return key_bytes + value_bytes + held_record_overhead;
}

/// The agent's in-flight budget, shared evenly by the tasks it holds.
/// Threads: `divide` on the group thread, on every assignment change;
/// `share` read by the partition actors (each reads it once per take). The
/// group owns it and outlives its actors.
class in_flight_budget {
 public:
  explicit in_flight_budget(std::uint64_t bytes) : total_(bytes) { divide(1); }

  /// Divides the budget over `tasks` held tasks (none counts as one).
  void divide(std::size_t tasks) {
    share_.store(static_cast<std::size_t>(total_ / (tasks == 0 ? 1 : tasks)),
                 std::memory_order_relaxed);
  }

  /// Bytes one task's actor may hold now. An actor over its share (after
  /// its group took on more tasks) takes nothing until it is under again.
  const std::atomic<std::size_t>& share() const { return share_; }
  std::uint64_t total() const { return total_; }

 private:
  std::uint64_t total_;
  std::atomic<std::size_t> share_{0};
};

}  // namespace kactor::detail
