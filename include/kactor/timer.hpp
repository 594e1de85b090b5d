#pragma once
// Durable timers: `context::schedule` keeps a timer in its task's state (the
// internal store `kactor.timers`, backed by its compacted changelog), so it
// survives crashes and moves with the task to another process; once due it
// reaches the agent's behaviour as a `kactor::timer` message (docs/state.md,
// "Timers").

#include <cstdint>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

namespace kactor {

/// A due timer, as the agent's behaviour receives it:
/// `[&ctx](const kactor::timer& t) { ... }`. It is handled as a record of
/// the task is: what its handler emits and writes commits together with the
/// timer's removal (exactly_once: in one transaction, so a timer fires once
/// also across crashes; at_least_once: at least once). A handler that throws
/// is retried, then the timer goes to the dead-letter topic as any record.
struct timer {
  /// The name and key it was scheduled under; one timer per name and key.
  std::string name;
  std::string key;
  /// When it was due, in milliseconds since the epoch (it fires at or after).
  std::int64_t due_ms = 0;
  /// The bytes given to `schedule`.
  std::string payload;
};

}  // namespace kactor

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::timer)
