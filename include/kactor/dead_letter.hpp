#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <kactor/error.hpp>
#include <kactor/event.hpp>
#include <kactor/types.hpp>

namespace kactor {

/// Headers kactor adds to a dead-letter record. In the full form the record
/// keeps the original key, value and headers byte for byte; these carry what
/// an operator needs to fix and re-drive it (in the spirit of Kafka Connect's
/// `errors.deadletterqueue.context.headers`). Numbers are decimal text; times
/// are milliseconds since the epoch.
///
/// Every value kactor writes is at most `max_value` bytes. A longer one (an
/// error message that embeds the payload, say) is cut at a UTF-8 character
/// boundary and ends with `truncated_marker`; `error_message_size` then holds
/// the message's original size.
///
/// A dead letter the dead-letter topic cannot hold (the broker or the producer
/// answers "too large" or "invalid record") is written again in a degraded
/// form, one step at a time, until one fits:
/// 1. the value omitted (`value_omitted` = "true", `value_size` = its size);
/// 2. the key and the original headers omitted too (`key_omitted` and
///    `headers_omitted` = "true").
/// The source topic, partition and offset are always there, so the original
/// can be read from the source while the topic retains it. If even the
/// smallest form is refused, the write can never succeed: the partition
/// escalates (docs/supervision.md).
namespace dlq_header {
inline constexpr std::string_view source_topic = "kactor.dlq.source.topic";
inline constexpr std::string_view source_partition = "kactor.dlq.source.partition";
inline constexpr std::string_view source_offset = "kactor.dlq.source.offset";
inline constexpr std::string_view source_timestamp = "kactor.dlq.source.timestamp";
inline constexpr std::string_view agent = "kactor.dlq.agent";
/// "retriable" (retries exhausted) or "irrecoverable".
inline constexpr std::string_view error_class = "kactor.dlq.error.class";
inline constexpr std::string_view error_message = "kactor.dlq.error.message";
/// Present when `error_message` was cut: the message's original size in bytes.
inline constexpr std::string_view error_message_size = "kactor.dlq.error.message.size";
/// How often the handler was run on the record.
inline constexpr std::string_view attempts = "kactor.dlq.attempts";
inline constexpr std::string_view first_failure_ms = "kactor.dlq.first.failure.ms";
inline constexpr std::string_view last_failure_ms = "kactor.dlq.last.failure.ms";
/// "true" when the record's value is not in the dead letter (degraded form 1).
inline constexpr std::string_view value_omitted = "kactor.dlq.value.omitted";
/// The omitted value's size in bytes.
inline constexpr std::string_view value_size = "kactor.dlq.value.size";
/// "true" when the key and the original headers are not in it (degraded form 2).
inline constexpr std::string_view key_omitted = "kactor.dlq.key.omitted";
inline constexpr std::string_view headers_omitted = "kactor.dlq.headers.omitted";
/// Why a degraded form was written: the producer's answer to the fuller one.
inline constexpr std::string_view degraded_because = "kactor.dlq.degraded.because";
/// The common prefix; `kactor dlq redrive` strips headers that start with it.
inline constexpr std::string_view prefix = "kactor.dlq.";

/// The most bytes of any header value kactor writes.
inline constexpr std::size_t max_value = 4096;
/// Ends a value cut to `max_value` bytes.
inline constexpr std::string_view truncated_marker = "...[truncated]";

/// `value` cut to at most `max_value` bytes at a UTF-8 character boundary,
/// ending with `truncated_marker` when cut.
std::string bounded(std::string_view value);
}  // namespace dlq_header

/// What kactor's headers on a dead letter say. The dead-letter actor encodes
/// it; `kactor dlq show` and `kactor dlq redrive` decode it, and so can any
/// consumer of a dead-letter topic. A field is empty (nullopt, false) when
/// its header is absent or, for numbers and the class, does not parse.
struct dead_letter_context {
  std::optional<std::string> source_topic;
  std::optional<partition_id> source_partition;
  std::optional<kactor::offset> source_offset;
  /// Milliseconds since the epoch; -1 when the source record had none.
  std::optional<std::int64_t> source_timestamp_ms;
  std::optional<std::string> agent;
  /// `retriable` (retries exhausted) or `irrecoverable`.
  std::optional<kactor::error_class> error_class;
  /// At most `dlq_header::max_value` bytes once encoded.
  std::optional<std::string> error_message;
  /// Decoded only: the message's size before it was cut (encoding sets it
  /// from `error_message`).
  std::optional<std::size_t> error_message_size;
  std::optional<std::size_t> attempts;
  std::optional<std::int64_t> first_failure_ms;
  std::optional<std::int64_t> last_failure_ms;
  bool value_omitted = false;
  std::optional<std::size_t> value_size;
  bool key_omitted = false;
  bool headers_omitted = false;
  std::optional<std::string> degraded_because;

  /// "topic/partition@offset" of the source record, `-` for each part missing.
  std::string source() const;
};

/// Appends the present fields of `ctx` to `out` as `kactor.dlq.*` headers,
/// in the order `dlq_header` lists them, every value bounded by
/// `dlq_header::bounded`.
void encode_dead_letter_headers(const dead_letter_context& ctx, headers& out);

/// Reads the last value of a header by name; nullopt when absent or null.
using header_lookup = std::function<std::optional<std::string_view>(std::string_view name)>;

/// Decodes kactor's headers through `last`.
dead_letter_context decode_dead_letter_headers(const header_lookup& last);

/// Decodes the headers of `dead_letter`, a record read from a dead-letter
/// topic (in a handler of an agent that consumes it, say).
dead_letter_context decode_dead_letter_headers(const event& dead_letter);

}  // namespace kactor
