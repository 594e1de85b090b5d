#pragma once
// Durable timers kept in a task's store (`kactor.timers`): what is pending,
// in due order, and taking one that fired. The partition actor owns one over
// its task's store; every change is a store write (so it reaches the
// changelog, and exactly_once, commits with the record that made it).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <kactor/store.hpp>
#include <kactor/timer.hpp>

namespace kactor::detail {

/// The internal store of an agent's timers (agent_config::timers).
inline constexpr std::string_view timer_store_name = "kactor.timers";

/// Timers over a `kv_store`, two keys each: by due time (`d` + 8-byte
/// big-endian due + name + NUL + key → payload), so the store's byte order is
/// due order, and by name (`n` + name + NUL + key → due), for replacing and
/// cancelling. One pending timer per name and key. Used on the partition
/// actor only.
class timer_table {
 public:
  explicit timer_table(kv_store& kv) : kv_(&kv) {}

  /// Keeps a timer `name`/`key` due at `due_ms` (ms since the epoch; an
  /// earlier time is clamped to 0), replacing a pending one of that name and
  /// key. A name that is empty or holds a NUL byte throws `irrecoverable_error`.
  void schedule(std::string_view name, std::string_view key, std::int64_t due_ms,
                std::string_view payload);
  /// Removes the pending timer `name`/`key`; whether there was one.
  bool cancel(std::string_view name, std::string_view key);
  /// The due time of the pending timer `name`/`key`, if any.
  std::optional<std::int64_t> due(std::string_view name, std::string_view key);
  /// The pending timer `name`/`key` if it is due at `due_ms`.
  std::optional<timer> find(std::string_view name, std::string_view key, std::int64_t due_ms);
  /// Removes and returns the timer `name`/`key` if it is pending with due
  /// time `due_ms`: a timer fires once, and a firing meant for a timer since
  /// cancelled or moved to another time finds nothing.
  std::optional<timer> take(std::string_view name, std::string_view key, std::int64_t due_ms);
  /// Calls `fn` for pending timers in due order (ties: by name, then key)
  /// until `fn` returns false. The timer is valid during the call only.
  void each(const std::function<bool(const timer&)>& fn);

 private:
  kv_store* kv_;
};

}  // namespace kactor::detail
