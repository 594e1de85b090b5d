#pragma once
// Cluster queries and the Admin API, one place for every caller (runtime,
// dead-letter tool, lag, tests): topic existence and creation, partition
// counts, watermarks, and a consumer group's committed offsets against them.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// What the cluster says of `topic` in a metadata request: no error if it
/// exists, `UNKNOWN_TOPIC_OR_PART` if not, `TOPIC_EXCEPTION` for a name no
/// topic can have, `TOPIC_AUTHORIZATION_FAILED`, ... (brokers that create
/// topics on first use may create it here). Throws `kafka_exception` when
/// the brokers do not answer within `timeout_ms`.
rd_kafka_resp_err_t topic_status(rd_kafka_t* rk, const std::string& topic, int timeout_ms = 10000);

/// Throws a retriable `kafka_exception` naming `brokers`, the wait and
/// librdkafka's reason when no broker answers a metadata request within
/// `timeout_ms`.
void check_brokers(rd_kafka_t* rk, const std::string& brokers, int timeout_ms = 10000);

/// The same for a client made from `props` (its security settings
/// included), and fast on a client that may not connect: a failed SASL
/// authentication or TLS handshake throws a fatal `kafka_exception` with
/// librdkafka's reason (never a setting's value) as soon as librdkafka
/// reports it, instead of waiting out `timeout_ms`.
void check_brokers(const property_list& props, const std::string& brokers, int timeout_ms = 10000);

/// One Admin API request: `issue(options, queue)` sends it with options for
/// `op` (request timeout `timeout_ms`); returns its result event. Throws
/// `kafka_exception` naming `what` if no answer comes in time or the request
/// failed as a whole (per-item errors are the caller's to read).
event_ptr admin_request(
    rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms, const std::string& what,
    const std::function<void(rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& issue);

/// Creates topics with the Admin API (no-op for topics that exist), each
/// with the topic `configs` given (`max.message.bytes`, `cleanup.policy`, ...).
void create_topics(rd_kafka_t* rk, const std::vector<std::pair<std::string, int>>& topics,
                   int timeout_ms = 30000, const std::map<std::string, std::string>& configs = {});

/// The value of the topic config `name` of `topic` (DescribeConfigs); empty
/// if the broker does not report it. Throws `kafka_exception`.
std::string topic_config(rd_kafka_t* rk, const std::string& topic, const std::string& name,
                         int timeout_ms = 10000);

/// Every topic the cluster has, with its partition count, from one
/// all-topics metadata request (which never creates a topic). Throws
/// `kafka_exception` when the brokers do not answer within `timeout_ms`.
std::map<std::string, int> partition_counts(rd_kafka_t* rk, int timeout_ms = 10000);

/// Deletes topics with the Admin API; throws `kafka_exception` naming the
/// first topic the brokers refused to delete (a missing one included).
void delete_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, int timeout_ms = 30000);

/// The partition count of `topic`. Throws `kafka_exception` naming `brokers`
/// when they do not answer, and `topic` (called `what`, e.g. "dead-letter
/// topic") when it does not exist.
int partition_count(rd_kafka_t* rk, const std::string& brokers, const std::string& topic,
                    const std::string& what, int timeout_ms);

/// The consumer group's committed offset of a partition (-1 if none), asked
/// through the group's consumer `rk`. Throws `kafka_exception`.
std::int64_t committed_offset(rd_kafka_t* rk, const std::string& topic, std::int32_t partition,
                              int timeout_ms);

/// Low and high watermark of a partition. On a read_committed consumer the
/// high one is the last stable offset: librdkafka sends its isolation.level
/// with ListOffsets.
std::pair<std::int64_t, std::int64_t> watermarks(rd_kafka_t* rk, const std::string& topic,
                                                 std::int32_t partition, int timeout_ms);

/// A consumer group as the coordinator describes it: its state ("Empty",
/// "Stable", "PreparingRebalance", ...) and its current members.
struct group_description {
  struct member {
    std::string client_id, host, member_id;
    /// The partitions it is assigned, as (topic, partition).
    std::vector<std::pair<std::string, std::int32_t>> assignment;
  };
  std::string state;
  std::vector<member> members;
};

/// DescribeConsumerGroups for one group (an unknown group is "Dead" with no
/// members). Throws `kafka_exception`.
group_description describe_group(rd_kafka_t* rk, const std::string& group, int timeout_ms);

/// A client for the group calls below (`group_offsets`,
/// `alter_group_offsets`) about `group`: a consumer handle with that
/// `group.id` that never subscribes (so never joins). librdkafka 2.0.2
/// answers a NOT_COORDINATOR (or a coordinator still loading, as on a
/// freshly started broker) to ListConsumerGroupOffsets by re-querying the
/// calling handle's own group coordinator, which a producer handle does not
/// have: the process crashed (librdkafka #5040, still open).
/// AlterConsumerGroupOffsets checks for one first; it shares the handle.
handle_ptr make_group_client(property_list props, const std::string& group);

/// The group's committed offsets by (topic, partition), as a client outside
/// the group reads them (ListConsumerGroupOffsets); `rk` from
/// `make_group_client`. Throws `kafka_exception`.
std::map<std::pair<std::string, std::int32_t>, std::int64_t> group_offsets(rd_kafka_t* rk,
                                                                           const std::string& group,
                                                                           int timeout_ms);

/// Sets the group's committed offsets to those in `offsets` (only partitions
/// listed change). The coordinator refuses while the group has members
/// subscribed to the topic; throws `kafka_exception` naming the first
/// partition refused and why.
void alter_group_offsets(rd_kafka_t* rk, const std::string& group,
                         const rd_kafka_topic_partition_list_t* offsets, int timeout_ms);

/// Replaces each element's offset of `parts` by the offset of its first
/// record with a timestamp at or after `ms` (offsetsForTimes), or the
/// partition's end when it has none that new. Throws `kafka_exception`.
void offsets_at_time(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, std::int64_t ms,
                     int timeout_ms);

/// For a consumer in the rebalance callback: sets each partition of `parts`
/// that its group has not committed to its first record at or after `ms`;
/// others keep their offset (INVALID: start at the commit). Throws
/// `kafka_exception`.
void start_uncommitted_at(rd_kafka_t* consumer, rd_kafka_topic_partition_list_t* parts,
                          std::int64_t ms, int timeout_ms);

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
