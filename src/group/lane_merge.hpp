#pragma once
// A task's records from several inputs (lanes) in one order: the lowest
// timestamp first among the lanes that have records, as Kafka Streams picks
// across a task's partitions. Used by `queue_source` (ports.hpp) for tasks
// with more than one input; no librdkafka, no CAF.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "actors/partition_source.hpp"

namespace kactor::detail {

/// Records taken from each lane's queue and not handed out yet. Owned and
/// called by one partition actor's source (on that actor).
class lane_merge {
 public:
  explicit lane_merge(std::size_t lanes) : staged_(lanes) {}

  /// Lane `lane`'s staged records, to append to (in the lane's order).
  std::deque<record_slot>& staged(std::uint32_t lane) { return staged_[lane]; }
  bool any_staged() const {
    for (const auto& lane : staged_)
      if (!lane.empty()) return true;
    return false;
  }
  /// Moves up to `max` staged records to `out`, lowest timestamp first (the
  /// lowest lane on a tie). A lane with nothing staged does not hold the
  /// others back (Kafka Streams' max.task.idle.ms = 0). Returns how many.
  std::size_t hand_out(std::size_t max, std::deque<record_slot>& out) {
    std::size_t n = 0;
    for (; n < max; ++n) {
      std::deque<record_slot>* first = nullptr;
      for (auto& lane : staged_)
        if (!lane.empty() &&
            (!first || lane.front().ev.timestamp_ms() < first->front().ev.timestamp_ms()))
          first = &lane;
      if (!first) break;
      out.push_back(std::move(first->front()));
      first->pop_front();
    }
    return n;
  }
  /// Forgets lane `lane`'s staged records (it is read again from elsewhere).
  void drop(std::uint32_t lane) { staged_[lane].clear(); }

 private:
  std::vector<std::deque<record_slot>> staged_;
};

}  // namespace kactor::detail
