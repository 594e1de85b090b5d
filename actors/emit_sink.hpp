#pragma once
// Where partition actors' emitted records go: the shared producer in
// production, a recording fake in tests.

#include <functional>
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
  /// handler emits starts no slice of records while it is, and waits for
  /// `when_room` instead of blocking its CAF worker thread inside `emit`
  /// (where a transaction barrier or another actor would wait for it).
  /// Called from CAF worker threads.
  virtual bool saturated() const = 0;
  /// Calls `wake` once when the queue has room again: on the thread serving
  /// the producer's delivery reports once it has drained well below
  /// saturation, or at once on the calling thread if it already has. Any
  /// thread; `wake` must not block. Waiting for an event instead of polling
  /// on a timer keeps the cost per record, not per waiting partition.
  virtual void when_room(std::function<void()> wake) = 0;
};

}  // namespace kactor::detail
