#include "src/kafka/prefetch_budget.hpp"

#include <algorithm>

namespace kactor::detail {

prefetch_limits divide_prefetch_budget(std::uint64_t budget_bytes, int partitions) {
  prefetch_limits out;
  if (partitions < 1) return out;
  const std::uint64_t share = budget_bytes / static_cast<std::uint64_t>(partitions);
  out.max_partition_fetch_bytes = static_cast<int>(
      std::clamp<std::uint64_t>(share / 2, 16 * 1024, out.max_partition_fetch_bytes));
  const std::uint64_t queued =
      share > static_cast<std::uint64_t>(out.max_partition_fetch_bytes)
          ? share - static_cast<std::uint64_t>(out.max_partition_fetch_bytes)
          : 0;
  out.queued_max_kbytes =
      static_cast<int>(std::clamp<std::uint64_t>(queued / 1024, 1, out.queued_max_kbytes));
  return out;
}

}  // namespace kactor::detail
