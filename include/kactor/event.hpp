#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include <kactor/error.hpp>
#include <kactor/types.hpp>

namespace kactor {

/// One Kafka record header.
struct header {
  std::string key;
  std::string value;
};

using headers = std::vector<header>;

/// How an event reads headers that stay in its transport's buffer (a
/// librdkafka message): kactor's Kafka layer supplies one for the records it
/// takes, so handlers and actors read headers without knowing librdkafka.
/// Both functions are called with the event's `native` pointer, on the
/// thread that reads the event.
struct header_reader {
  /// The last value of header `name`, if the record carries it.
  std::optional<std::string_view> (*last)(const void* native, std::string_view name);
  /// Every header, copied.
  headers (*all)(const void* native);
};

/// A record taken from Kafka, as a handler sees it.
///
/// An event is a view: its topic, key, value and headers point into the
/// record buffer the partition actor holds. It is valid only while the handler
/// that received it runs; copy what must outlive the call.
class event {
 public:
  event() = default;
  event(std::string_view topic, partition_id partition, kactor::offset off,
        std::int64_t timestamp_ms, std::string_view key, std::string_view value,
        const void* native = nullptr, const headers* extra = nullptr,
        const header_reader* reader = nullptr)
      : topic_(topic),
        partition_(partition),
        offset_(off),
        timestamp_ms_(timestamp_ms),
        key_(key),
        value_(value),
        native_(native),
        reader_(native ? reader : nullptr),
        extra_(extra) {}

  std::string_view topic() const noexcept { return topic_; }
  partition_id partition() const noexcept { return partition_; }
  kactor::offset offset() const noexcept { return offset_; }
  /// Milliseconds since the epoch, or -1 when the record has none.
  std::int64_t timestamp_ms() const noexcept { return timestamp_ms_; }
  std::string_view key() const noexcept { return key_; }
  std::string_view value() const noexcept { return value_; }

  /// The last value of header `name`, if the record carries it.
  std::optional<std::string_view> header(std::string_view name) const;

  /// All headers, copied (allocates; for logging and DLQ context).
  headers all_headers() const;

  /// Parses the value as the Protobuf message `T`. A payload that does not
  /// parse throws `irrecoverable_error` naming the record and the type.
  template <class T>
  T as() const {
    T msg;
    if (!msg.ParseFromArray(value_.data(), static_cast<int>(value_.size())))
      throw irrecoverable_error(describe() + ": value does not parse as " + msg.GetTypeName());
    return msg;
  }

  /// "topic/partition@offset", for messages and logs.
  std::string describe() const;

 private:
  std::string_view topic_;
  partition_id partition_{0};
  kactor::offset offset_{-1};
  std::int64_t timestamp_ms_ = -1;
  std::string_view key_;
  std::string_view value_;
  const void* native_ = nullptr;           // the transport's record, read by `reader_`
  const header_reader* reader_ = nullptr;  // null: the headers are `extra_` (or none)
  const headers* extra_ = nullptr;         // headers of records not from librdkafka (tests)
};

}  // namespace kactor

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::event)
