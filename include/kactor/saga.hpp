#pragma once
// Sagas by choreography (the article's pattern 5): a saga's state kept in a
// task's store, so it is restored with the task after a crash or a move, and
// its compensations emitted in reverse order when it fails. The participants
// only exchange events; the agent that keeps the saga consumes their outcomes
// (keyed by saga id, so one task holds every event of a saga) and records
// them here.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kactor/context.hpp>
#include <kactor/timer.hpp>

namespace kactor {

enum class saga_status : std::uint8_t {
  running,       ///< begun, neither completed nor failed
  completed,     ///< `complete`d: done
  compensating,  ///< failed: the compensations of its confirmed steps are out, awaited
  rolled_back,   ///< failed, and every confirmed step compensated (done)
  failed,        ///< failed, and a compensation was not confirmed in time (for an operator)
};

/// "running", "completed", "compensating", "rolled_back", "failed".
const char* to_string(saga_status s) noexcept;

/// The record that undoes a confirmed step (a command to its participant).
struct compensation {
  std::string topic;
  std::string key;
  std::string value;
};

/// What is kept of one saga.
struct saga_state {
  std::string id;
  saga_status status = saga_status::running;
  /// The bytes given to `begin` (a Protobuf message, JSON, ...).
  std::string data;
  /// Confirmed steps, oldest first, each with what undoes it.
  struct step {
    std::string name;
    compensation undo;
  };
  std::vector<step> confirmed;
  /// Compensating: the steps whose compensation is not confirmed yet.
  std::vector<std::string> awaiting;
  /// Running: the steps `expect`ed and not confirmed yet, each with its
  /// timeout scheduled. Failing or completing the saga cancels those timeouts.
  std::vector<std::string> expected;
  /// Why it failed (empty while it did not).
  std::string reason;
};

/// The sagas of one task, in its store `store` (declared on the agent, with
/// `timers` for step timeouts). Made in a handler from its context, cheap
/// (holds references); used in that handler only. Every change is a store
/// write and every compensation an emit of the record being handled, so at
/// exactly_once a saga moves on exactly once per event, also across crashes;
/// at at_least_once an event handled twice finds its step already recorded.
/// Each operation is idempotent for the event that causes it: a saga begins,
/// completes and fails once; later calls return false and change nothing.
class saga_log {
 public:
  explicit saga_log(context& ctx, std::string_view store = "sagas");

  /// Begins saga `id`. False if it exists (begun before, in any status).
  bool begin(std::string_view id, std::string_view data = {});

  /// The saga `id`, if it was begun.
  std::optional<saga_state> get(std::string_view id);

  /// `step` of saga `id` is confirmed; `undo` is emitted should the saga
  /// fail. A running saga records it (once: a step confirmed again is
  /// ignored) and cancels the step's timeout; returns true. A saga that
  /// failed already gets `undo` emitted at once (a step confirmed after the
  /// failure must be undone too) and awaits it, its status unchanged (its
  /// outcome stands). An unknown or completed
  /// saga: false, nothing done.
  bool confirm(std::string_view id, std::string_view step, const compensation& undo);

  /// `step` of running saga `id` must be confirmed within `timeout`, or the
  /// saga fails ("step <step> timed out"). A durable timer: the behaviour
  /// hands its timers to `on_timer`. Confirming the step, or failing or
  /// completing the saga first, cancels it.
  void expect(std::string_view id, std::string_view step, std::chrono::milliseconds timeout);

  /// Fails running saga `id` for `reason`: emits the compensations of its
  /// confirmed steps, newest first, and is `compensating` until each is
  /// confirmed with `compensated` (`rolled_back` at once when none was
  /// confirmed). With `compensation_timeout`, compensations still awaited
  /// then leave it `failed`. False if it is not running.
  bool fail(std::string_view id, std::string_view reason,
            std::chrono::milliseconds compensation_timeout = std::chrono::milliseconds(0));

  /// The compensation of `step` was carried out. True when that made the
  /// saga `rolled_back`.
  bool compensated(std::string_view id, std::string_view step);

  /// Completes running saga `id`; false if it is not running.
  bool complete(std::string_view id);

  /// A timer of this log (a step's or a compensation's timeout) moves its
  /// saga on: returns the saga in its new state (`compensating` or
  /// `rolled_back` after a step timeout, `failed` after a compensation
  /// timeout). Nothing for any other timer (the behaviour's own: dispatch on
  /// `timer::name` first), and nothing, changing nothing, for a timeout its
  /// saga no longer awaits: its step confirmed, or the saga over. This log
  /// cancels such timeouts, but a saga stored by kactor before it kept
  /// `expected` may still have some.
  std::optional<saga_state> on_timer(const timer& t);

 private:
  void put(const saga_state& s);
  /// Cancels the timeouts of `s`'s expected steps and forgets them.
  void cancel_expected(saga_state& s);
  context* ctx_;
  kv_store* kv_;
  std::string timer_name_;
};

}  // namespace kactor
