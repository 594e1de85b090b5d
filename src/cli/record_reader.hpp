#pragma once
// Reading topics for the operator tools (`kactor dlq`, `kactor trace`): a
// consumer that joins no group's membership and never commits by itself,
// offset ranges read to their ends, records as plain values, and their
// printable and JSON forms.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// One record read from a topic. A null key, value or header value is nullopt.
struct topic_record {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  /// Milliseconds since the epoch; -1 when the record has none.
  std::int64_t timestamp_ms = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  /// All headers in record order; a name may repeat.
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;

  /// The value of the last header called `name`; nullopt when there is none
  /// or it is null. Points into `headers`.
  std::optional<std::string_view> header(std::string_view name) const;
};

/// "<topic>/<partition>@<offset>".
std::string where_in(const std::string& topic, std::int32_t partition, std::int64_t offset);

/// A consumer (read_committed, earliest, no auto-commit, no topic creation,
/// librdkafka's own logging off). `group` is needed for rd_kafka_assign (and
/// for committing, which only `kactor dlq redrive` does).
handle_ptr make_reader(const std::string& brokers, const std::string& group);

/// Per partition, the offsets [first, end) to read.
using offset_ranges = std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>>;

/// Assigns `ranges` and passes each record below its partition's end to
/// `on_message` until every partition's position has reached its end, or
/// `on_message` returns false. Positions, not the offsets of records seen,
/// tell when a partition is done: transaction markers and aborted records take
/// offsets that no record is returned for. Throws `kafka_exception` when no
/// partition makes progress for `timeout`, or on an error that is not retriable.
void read_ranges(rd_kafka_t* rk, const std::string& topic, const offset_ranges& ranges,
                 std::chrono::milliseconds timeout,
                 const std::function<bool(const rd_kafka_message_t&)>& on_message);

/// The message as a `topic_record` (its bytes copied).
topic_record to_record(const rd_kafka_message_t& m);

/// Whether `s` is valid UTF-8.
bool valid_utf8(std::string_view s);

/// `s` on one line: quotes, backslashes, control characters and bytes that
/// are not UTF-8 escaped (`\"`, `\\`, `\n`, `\r`, `\t`, `\xNN`); in double
/// quotes when `quoted`. Null is `-`.
std::string printable(const std::optional<std::string>& s, bool quoted);

/// As `printable(value, true)`, but a value longer than `max` bytes shows
/// its start (cut at a character boundary) and then `...(<size> bytes)`.
std::string printable_cut(const std::optional<std::string>& value, std::size_t max);

/// Adds `s` to `obj` as `name` (a JSON string when valid UTF-8, null when
/// null) or otherwise as `name`_base64 (standard padded base64, RFC 4648).
void put_bytes(nlohmann::ordered_json& obj, const std::string& name,
               const std::optional<std::string>& s);

/// Adds `r`'s key, value and `headers` (every header in order as
/// `{"name": ..., "value": ...}`) to `obj`, each by `put_bytes`.
void put_record(nlohmann::ordered_json& obj, const topic_record& r);

}  // namespace kactor::detail
