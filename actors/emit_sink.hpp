#pragma once
// Where partition actors' emitted records go: the shared producer in
// production, a recording fake in tests.

#include <string_view>

#include <kactor/event.hpp>
#include <kactor/types.hpp>

#include "actors/delivery_tracker.hpp"

namespace kactor::detail {

/// Where emitted records go; the shared producer in production.
class emit_sink {
 public:
  virtual ~emit_sink() = default;
  /// Hands a record to the producer; `token` comes back through
  /// `delivery_tracker::delivered`. Throws `kafka_exception` if refused at once.
  virtual void emit(std::string_view topic, partition_id partition, std::string_view key,
                    std::string_view value, const headers& hdrs,
                    delivery_tracker::entry* token) = 0;
  /// Whether the producer's local queue is nearly full. A partition actor whose
  /// handler emits starts no slice of records while it is, and looks again after
  /// `partition_actor_config::room_poll`, instead of blocking its CAF worker
  /// thread inside `emit` (where a transaction barrier or another actor would
  /// wait for it). Called from CAF worker threads.
  virtual bool saturated() const = 0;
};

}  // namespace kactor::detail
