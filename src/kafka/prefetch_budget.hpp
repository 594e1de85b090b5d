#pragma once
// How an agent's prefetch budget becomes librdkafka consumer settings.

#include <cstdint>

namespace kactor::detail {

/// The librdkafka settings that keep a consumer's prefetch within a budget.
struct prefetch_limits {
  /// `queued.max.messages.kbytes`: librdkafka stops fetching a partition
  /// whose own queue holds this much (kactor reads each partition's queue
  /// separately, so the setting is per partition).
  int queued_max_kbytes = 4096;
  /// `queued.min.messages`: the same stop by count, so that small records,
  /// whose bookkeeping outweighs their bytes, stay within the share too.
  int queued_max_records = 100000;
  /// `max.partition.fetch.bytes`: the most one fetch adds to a partition's
  /// queue, so a queue just under its limit overshoots by this at most. The
  /// same whatever the budget (see `divide_prefetch_budget`).
  static constexpr int max_partition_fetch_bytes = 1048576;
  /// `fetch.max.bytes`: the most one fetch response carries over all
  /// partitions (librdkafka keeps one fetch in flight per broker).
  int fetch_max_bytes = 52428800;
  /// How many partitions may fetch at once (`fetch_gate`) in the worst
  /// case; 0: all of them.
  int fetch_slots = 0;
  /// With `fetch_slots`, the queues' part of the budget in bytes if it holds
  /// `adaptive_gate_responses` fetch responses, else 0: what the gate lets
  /// the fetching partitions hold as it adapts (`fetch_gate::adapt`); 0:
  /// the gate keeps `fetch_slots`.
  std::uint64_t queue_bytes = 0;
};

/// What librdkafka 2.0.2 keeps per queued record besides its key and value
/// (its op and message structs, the batch framing), roughly: the copy
/// benchmark's RSS grew by 310-410 MB whenever its whole input, 1M records
/// of 100 bytes, was prefetched at once.
constexpr std::uint64_t record_overhead_bytes = 256;

/// The gate adapts only where the queues' part holds this many fetch
/// responses. It looks every 100 ms, and starts with every partition
/// fetching: until its first look, fetches land in whole responses, and
/// records keep their responses alive after it stops partitions. With a
/// 32 MiB budget (six 4 MiB responses in its queues' part) the slow handler
/// of `prefetch_budget_kafka_test` grew the process by 43-50 MiB so; with
/// 256 MiB (55 responses), by 174-200 MiB (15 runs, 2026-12-02).
constexpr std::uint64_t adaptive_gate_responses = 32;

/// Divides `budget_bytes` (librdkafka's part of an agent's budget; the
/// runtime keeps `in_flight_part` for the records actors hold) over
/// `partitions` partitions.
///
/// A fetch response takes a 64th of the budget (at least 4 MiB, at most
/// librdkafka's 50 MiB default); the rest is divided into the
/// partitions' queues, half by bytes (at least 1 kB, at most kactor's
/// 4096 kB default each) and half by count at `record_overhead_bytes` per
/// record (at least 100, at most librdkafka's 100000).
///
/// A partition's fetch stays at 1 MiB whatever the budget. The broker hands
/// out whole record batches (up to its `message.max.bytes`, 1 MiB; a
/// librdkafka producer fills batches up to 1 MB), and a batch larger than a
/// partition's fetch limit comes back only for the first partition of a
/// request; left to itself librdkafka 2.0.2 also cuts `fetch.max.bytes` down
/// to one partition's queue limit. With both, every fetch carried a single
/// partition's batch and a backlog was read one partition after another
/// (issue 15: at 256 partitions, 150 had handled nothing when a quarter of
/// the backlog was done). A 4 MiB response takes at least four such
/// batches, and no more: librdkafka 2.0.2 gives every record a reference to
/// the whole response it came in, so one record still queued or held keeps
/// the response alive. Copying 2M records through 1024 partitions, the
/// process grew by 312-393 MB with 16 MiB responses and by 59-90 MB with
/// 4 MiB ones, and was faster (benchmarks/RESULTS.md, 2026-12-02).
///
/// A fetching partition may hold its queue's share and one fetch beyond it:
/// under two fetches, since a share is under one fetch whenever partitions
/// must take turns. So as many partitions fetch at once as two fetches
/// (2 MiB) fit in the queues' part, at least one; if that is every partition
/// (the budget is large enough), all fetch at once and none waits.
///
/// librdkafka 2.0.2 reads these settings once, when the consumer is made: the
/// division is over every partition the agent may be assigned (all of its
/// topics'), not over the ones it holds.
prefetch_limits divide_prefetch_budget(std::uint64_t budget_bytes, int partitions);

}  // namespace kactor::detail
