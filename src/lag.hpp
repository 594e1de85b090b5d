#pragma once
// Consumer-group lag, as `kactor lag` reports it.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace kactor::detail {

struct partition_lag {
  std::string topic;
  std::int32_t partition = 0;
  /// -1 when the group has committed nothing for the partition.
  std::int64_t committed = -1;
  std::int64_t end = 0;
  std::int64_t lag = 0;
};

struct group_lag {
  std::string group;
  std::vector<partition_lag> partitions;
  std::int64_t total = 0;
};

/// Committed offsets of `group` against the partitions' end offsets, for every
/// partition the group committed or its current members are assigned (those
/// without a commit lag by the whole partition). Throws
/// `kafka_exception` with a message naming the broker or group when either is
/// unknown or unreachable within `timeout`.
group_lag query_group_lag(const std::string& brokers, const std::string& group,
                          std::chrono::milliseconds timeout);

}  // namespace kactor::detail
