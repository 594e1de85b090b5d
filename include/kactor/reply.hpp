#pragma once
// Request-reply over topics (the article's pattern 6), the responder's side:
// where a request's reply goes, read from the request's headers. Requests
// made by kactor carry `kactor.*` headers; those made by Spring Kafka's
// ReplyingKafkaTemplate carry `kafka_*` headers, so a JVM service can call a
// kactor agent unchanged. `context::reply` sends a reply where this says.

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/allowed_unsafe_message_type.hpp>

#include <kactor/event.hpp>
#include <kactor/types.hpp>

namespace kactor {

/// The headers of a request and of its reply.
namespace reply_header {
/// The request's correlation id; the reply carries it back as it came.
inline constexpr std::string_view correlation_id = "kactor.correlation_id";
/// The topic the reply goes to.
inline constexpr std::string_view reply_to = "kactor.reply_to";
/// The partition it goes to, in decimal (the requester's task).
inline constexpr std::string_view reply_partition = "kactor.reply_partition";
/// Spring Kafka's: the correlation id (bytes), the reply topic, and the
/// reply partition as a 4-byte big-endian integer.
inline constexpr std::string_view spring_correlation_id = "kafka_correlationId";
inline constexpr std::string_view spring_reply_topic = "kafka_replyTopic";
inline constexpr std::string_view spring_reply_partition = "kafka_replyPartition";
}  // namespace reply_header

/// Where the reply to a request goes.
struct reply_route {
  std::string topic;
  /// -1: none named; the producer partitions the reply by its key.
  partition_id partition{-1};
  /// The header the reply carries the correlation id in, and its value
  /// (the request's bytes, unchanged).
  header correlation;
};

/// The route `request`'s headers name: `kactor.reply_to` (with
/// `kactor.reply_partition` and `kactor.correlation_id`), or else Spring's
/// `kafka_replyTopic` (with `kafka_replyPartition` and
/// `kafka_correlationId`). Throws `irrecoverable_error`, saying which
/// headers it looked for, when the request names no reply topic or no
/// correlation id, or a partition it cannot read: such a request cannot be
/// answered, so it goes to the dead-letter topic.
reply_route route_reply(const event& request);

/// A request this agent made (`context::request`) and kept until its reply
/// or its timeout.
struct pending_request {
  std::string correlation_id;
  std::string topic;
  std::string key;
  std::string value;
  /// When it was sent and when it times out, ms since the epoch.
  std::int64_t sent_ms = 0;
  std::int64_t deadline_ms = 0;
};

/// The reply to one of this agent's requests, as its behaviour receives it:
/// `[](const kactor::reply& r) { ... }`. `response` is a view into the reply
/// record, valid during the handler only (as any event).
struct reply {
  event response;
  pending_request request;
};

/// A request of this agent's that had no reply before its timeout.
struct reply_timeout {
  pending_request request;
};

}  // namespace kactor

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::reply_timeout)
