#pragma once
// A consumer group's members as its coordinator describes them
// (DescribeGroups): the consumer protocol's subscription and assignment
// bytes, read. What a member says it owns is in its subscription (version 1
// and later, which librdkafka 2.0.2 sends): the partitions it held when it
// last joined.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// The partitions a consumer subscription (JoinGroup member metadata) says
/// its member owns; empty for version 0. Nullopt if `data` is not one.
std::optional<std::vector<topic_partition>> subscription_owned_partitions(const void* data,
                                                                          std::size_t size);

/// The partitions a consumer assignment (SyncGroup member assignment) gives.
/// Nullopt if `data` is not one; an empty assignment (no bytes) gives none.
std::optional<std::vector<topic_partition>> assignment_partitions(const void* data,
                                                                  std::size_t size);

/// A consumer group as its coordinator describes it.
struct group_members {
  /// "Stable", "PreparingRebalance", "CompletingRebalance", "Empty" or "Dead".
  std::string state;
  struct member {
    std::string member_id;
    /// What it owned when it last joined, and what this generation gives it.
    std::vector<topic_partition> owned, assigned;
  };
  std::vector<member> members;
};

/// DescribeGroups for `group` through `rk` (any client). Nullopt if the
/// group is not a consumer group or a member's bytes do not read as the
/// consumer protocol. Throws `kafka_exception` if the coordinator does not
/// answer within `timeout_ms`.
std::optional<group_members> describe_group_members(rd_kafka_t* rk, const std::string& group,
                                                    int timeout_ms);

}  // namespace kactor::detail
