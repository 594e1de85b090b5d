#pragma once
// How an agent's prefetch budget becomes librdkafka consumer settings.

#include <cstdint>

namespace kactor::detail {

/// The per-partition librdkafka settings that keep a consumer's prefetch
/// within a budget.
struct prefetch_limits {
  /// `queued.max.messages.kbytes`: librdkafka stops fetching a partition
  /// whose own queue holds this much (kactor reads each partition's queue
  /// separately, so the setting is per partition).
  int queued_max_kbytes = 4096;
  /// `max.partition.fetch.bytes`: the most one fetch adds to a partition's
  /// queue, so a queue just under its limit overshoots by this at most.
  int max_partition_fetch_bytes = 1048576;
};

/// Divides `budget_bytes` over `partitions` partitions: each receives at
/// most half its share in one fetch and may hold the rest queued, so all of
/// them together hold at most the budget. Never above librdkafka's kactor
/// defaults (4096 kB queued, 1 MiB per fetch), never below 1 kB and 16 KiB.
/// librdkafka 2.0.2 reads both settings once, when the consumer is made: the
/// division is over every partition the agent may be assigned (all of its
/// topics'), not over the ones it holds.
prefetch_limits divide_prefetch_budget(std::uint64_t budget_bytes, int partitions);

}  // namespace kactor::detail
