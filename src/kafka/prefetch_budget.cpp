#include "src/kafka/prefetch_budget.hpp"

#include <algorithm>

namespace kactor::detail {

prefetch_limits divide_prefetch_budget(std::uint64_t budget_bytes, int partitions) {
  prefetch_limits out;
  constexpr std::uint64_t MiB = 1024 * 1024;
  const auto fetch = std::clamp<std::uint64_t>(budget_bytes / 64, 4 * MiB,
                                               static_cast<std::uint64_t>(out.fetch_max_bytes));
  out.fetch_max_bytes = static_cast<int>(fetch);
  if (partitions < 1) return out;
  const std::uint64_t queued = budget_bytes > fetch ? budget_bytes - fetch : 0;
  // Half of a partition's share for its records' bytes, half for librdkafka's
  // bookkeeping of as many records at `record_overhead_bytes` each.
  const std::uint64_t half = queued / static_cast<std::uint64_t>(partitions) / 2;
  out.queued_max_kbytes =
      static_cast<int>(std::clamp<std::uint64_t>(half / 1024, 1, out.queued_max_kbytes));
  out.queued_max_records = static_cast<int>(
      std::clamp<std::uint64_t>(half / record_overhead_bytes, 100, out.queued_max_records));
  const auto slots =
      std::max<std::uint64_t>(1, queued / (2 * prefetch_limits::max_partition_fetch_bytes));
  if (slots < static_cast<std::uint64_t>(partitions)) {
    out.fetch_slots = static_cast<int>(slots);
    if (queued >= adaptive_gate_responses * fetch) out.queue_bytes = queued;
  }
  return out;
}

}  // namespace kactor::detail
