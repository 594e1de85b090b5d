#pragma once

#include <string_view>

namespace kactor {

/// Headers kactor adds to a dead-letter record. The record keeps the original
/// key, value and headers byte for byte; these carry what an operator needs to
/// fix and re-drive it (in the spirit of Kafka Connect's
/// `errors.deadletterqueue.context.headers`). Numbers are decimal text; times
/// are milliseconds since the epoch.
namespace dlq_header {
inline constexpr std::string_view source_topic = "kactor.dlq.source.topic";
inline constexpr std::string_view source_partition = "kactor.dlq.source.partition";
inline constexpr std::string_view source_offset = "kactor.dlq.source.offset";
inline constexpr std::string_view source_timestamp = "kactor.dlq.source.timestamp";
inline constexpr std::string_view agent = "kactor.dlq.agent";
/// "retriable" (retries exhausted) or "irrecoverable".
inline constexpr std::string_view error_class = "kactor.dlq.error.class";
inline constexpr std::string_view error_message = "kactor.dlq.error.message";
/// How often the handler was run on the record.
inline constexpr std::string_view attempts = "kactor.dlq.attempts";
inline constexpr std::string_view first_failure_ms = "kactor.dlq.first.failure.ms";
inline constexpr std::string_view last_failure_ms = "kactor.dlq.last.failure.ms";
/// The common prefix; `kactor dlq redrive` strips headers that start with it.
inline constexpr std::string_view prefix = "kactor.dlq.";
}  // namespace dlq_header

}  // namespace kactor
