#pragma once

#include <stdexcept>
#include <string>

namespace kactor {

/// The one classification every failure gets; supervision switches on it and
/// on nothing else.
enum class error_class {
  /// Transient: the same operation may succeed later (broker moved, timeout,
  /// a handler's exception). Retried with backoff.
  retriable,
  /// The open transaction cannot commit; abort it, rewind and go on.
  abortable,
  /// This record can never succeed (bad payload, too large, rejected by
  /// business logic). Not retried; the record is set aside.
  irrecoverable,
  /// The runtime cannot go on (fenced, authorization, bad configuration).
  fatal,
};

/// Human-readable name of `c` ("retriable", "abortable", ...).
const char* to_string(error_class c) noexcept;

/// A failure with its class. Kafka errors keep librdkafka's code in `code`
/// (0 for failures that did not come from Kafka).
struct error_info {
  error_class cls = error_class::retriable;
  int code = 0;
  std::string message;
};

/// Classifies a librdkafka error code (`rd_kafka_resp_err_t` as int). The flags
/// are what librdkafka reported alongside it (`rd_kafka_error_is_fatal`, ...);
/// they win over the code table. Unknown codes without flags are irrecoverable
/// for the record at hand, never silently retried forever.
error_class classify_kafka_error(int code, bool is_fatal = false, bool is_retriable = false,
                                 bool txn_requires_abort = false) noexcept;

/// What a failed write says about what can still be written to its topic;
/// the dead-letter path switches on it (docs/supervision.md).
enum class write_failure {
  /// The same record may be written later (broker moving, timeouts, a full
  /// queue, a transaction being aborted).
  transient,
  /// This record can never be written as it is (too large, invalid), but a
  /// smaller one could.
  record,
  /// Nothing can be written to that topic (it does not exist and cannot be
  /// created, the client may not write it, the name is invalid).
  destination,
};

/// Classifies the librdkafka error code of a refused or failed write.
write_failure classify_write_failure(int code) noexcept;

/// Thrown by a handler for a record that can never be processed (business
/// rejection, a payload that does not parse). The record is not retried.
class irrecoverable_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown at start-up for configuration that cannot be used. `key()` is the
/// dotted path of the offending key (for example `agents[1].max_poll_records`).
class config_error : public std::runtime_error {
 public:
  config_error(std::string key, const std::string& what)
      : std::runtime_error(key + ": " + what), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

/// A local state store (RocksDB) failed: it cannot be opened, read or
/// written. From a handler it is a retriable failure (a full disk may clear);
/// `path()` is the store's directory.
class store_error : public std::runtime_error {
 public:
  store_error(std::string path, const std::string& what)
      : std::runtime_error("state store " + path + ": " + what), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// Thrown when the embedded (mock) cluster is asked for something it cannot do
/// honestly, or when a Kafka call fails in a way the caller must see.
class kafka_exception : public std::runtime_error {
 public:
  explicit kafka_exception(error_info e) : std::runtime_error(e.message), info_(std::move(e)) {}
  const error_info& info() const noexcept { return info_; }

 private:
  error_info info_;
};

}  // namespace kactor
