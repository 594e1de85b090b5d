#pragma once
// Reads a store's changelog partition for a restore: an assign-only
// consumer outside any group, read_committed.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// One consumer that reads changelog partitions, one range at a time. Used
/// by one thread (the restorer). Every failure throws `kafka_exception`.
class changelog_reader {
 public:
  /// Called for each record in order; a value with a null data pointer is a
  /// tombstone. The views are valid during the call only.
  using apply_fn = std::function<void(std::string_view key, std::string_view value)>;

  /// `props`: the consumer's client properties (brokers, security); the
  /// reader adds its own (no group, read_committed, end-of-partition events).
  explicit changelog_reader(property_list props);

  /// The partition's first offset and its end: the last stable offset, so a
  /// transaction still open is not read.
  std::pair<std::int64_t, std::int64_t> bounds(const std::string& topic, std::int32_t partition,
                                               int timeout_ms = 10000);

  /// Reads [from, end) of the partition (records of aborted transactions
  /// skipped), calling `apply` for each. Between fetches it asks
  /// `cancelled()`: true stops the read, and `read` returns false. What
  /// `apply` throws stops the read and is rethrown by `read`.
  bool read(const std::string& topic, std::int32_t partition, std::int64_t from, std::int64_t end,
            const apply_fn& apply, const std::function<bool()>& cancelled);

 private:
  handle_ptr rk_;
};

}  // namespace kactor::detail
