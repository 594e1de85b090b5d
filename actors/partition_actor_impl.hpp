#pragma once
// The class behind `spawn_partition_actor`, shared by its three source files
// (include it from nowhere else):
// - partition_actor.cpp: the record loop (take, slice, handle, store offsets,
//   stop);
// - partition_failures.cpp: the failure path (retries, dead letters,
//   escalation, outputs refused);
// - partition_transaction.cpp: the exactly_once participant (barrier, kept
//   outputs, release, rewind);
// - partition_timers.cpp: durable timers and requests (schedule, fire,
//   replies, timeouts).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <kactor/log.hpp>

#include "actors/deferred_outputs.hpp"
#include "actors/delivery_tracker.hpp"
#include "actors/in_flight_budget.hpp"
#include "actors/mailbox_bound.hpp"
#include "actors/partition_actor.hpp"
#include "actors/request_table.hpp"
#include "actors/retry_policy.hpp"
#include "actors/timer_table.hpp"

namespace kactor::detail {

class partition_actor;

/// The context handlers see: emits are tied to the record being handled.
class partition_context final : public context {
 public:
  partition_context(partition_actor* self, const partition_actor_config& cfg)
      : self_(self),
        agent_(cfg.agent),
        inputs_(cfg.inputs),
        sink_(cfg.sink),
        state_(cfg.state.get()),
        own_inputs_(static_cast<std::uint32_t>(
            cfg.timer_lane >= 0 ? cfg.timer_lane : static_cast<int>(cfg.inputs.size()))) {}

  void emit(std::string_view topic, std::string_view key, std::string_view value,
            const headers& hdrs, partition_id partition) override {
    emits_ = true;
    if (current_) tracker_->add_emit(current_);
    if (deferred_) {
      deferred_->add(topic, partition, key, value, hdrs, current_);
      return;
    }
    try {
      sink_->emit(topic, partition, key, value, hdrs, current_);
    } catch (...) {
      if (current_) tracker_->cancel_emit(current_);
      throw;
    }
  }

  kv_store& kv(std::string_view name) override {
    if (auto* s = state_ ? state_->find(name) : nullptr) return *s;
    throw irrecoverable_error("agent " + agent_ + " has no store '" + std::string(name) +
                              "' (declared: " + (state_ ? state_->names() : std::string("none")) +
                              "; declare it with agent_builder::store or agents[].stores)");
  }

  void schedule(std::string_view name, std::string_view key, std::chrono::milliseconds delay,
                std::string_view payload) override;
  void schedule(std::string_view name, std::string_view key,
                std::chrono::system_clock::time_point at, std::string_view payload) override;
  bool cancel(std::string_view name, std::string_view key) override;
  /// Both `schedule`s: the timer is kept, a check armed for it.
  void schedule_at(std::string_view name, std::string_view key, std::int64_t due_ms,
                   std::string_view payload);
  std::string request(std::string_view topic, std::string_view key, std::string_view value,
                      std::chrono::milliseconds timeout, const headers& hdrs) override;

  const std::string& agent() const override { return agent_; }
  /// In a handler, the record's input partition (the first input's for a
  /// timer or a reply: kactor's internal inputs); otherwise the task's first.
  const topic_partition& source() const override {
    const auto lane = current_ ? current_->lane : 0;
    return inputs_[lane < own_inputs_ ? lane : 0].tp;
  }
  caf::event_based_actor* self() override;

  delivery_tracker* tracker_ = nullptr;
  delivery_tracker::entry* current_ = nullptr;
  /// Set while a commit runs: emits are kept here instead of produced.
  deferred_outputs* deferred_ = nullptr;
  /// Whether the handler emitted anything yet: only such an actor waits for
  /// room in the producer.
  bool emits_ = false;

 private:
  partition_actor* self_;
  std::string agent_;
  const std::vector<task_input>& inputs_;  // the actor's configuration's
  emit_sink* sink_;
  task_state* state_;
  std::uint32_t own_inputs_;  // lanes below it are the agent's own inputs
};

/// The failures of the record at the front of the buffer, across retries.
struct failing_record {
  delivery_tracker::entry* entry = nullptr;
  dead_letter_cause cause;
};

/// A dead-letter write not yet acknowledged; kept to write it again.
struct pending_dead_letter {
  dead_letter record;
  std::size_t attempts = 0;
  /// Written during a commit: it goes to the producer on the release, with
  /// the kept outputs, into the next transaction.
  bool due = false;
  /// Its last failure was dealt with (see `dead_letter_refused`).
  bool reported = false;
};

/// What a partition actor keeps per input of its task (its lane).
struct lane_state {
  /// The offset after the last record that began in the handler: a record
  /// below it, delivered again by librdkafka (it can after pause/resume), is
  /// dropped.
  kactor::offset next_expected{-1};
  /// exactly_once: the offset after the last record done (handled or dead-lettered).
  kactor::offset eos_next{-1};
  /// exactly_once: `eos_next` when the current deferral began: what the
  /// barrier answered.
  kactor::offset deferred_from{-1};
  /// Records dead-lettered when taken, without running the handler.
  poison_map poison;
};

/// Where a partition actor is in its life.
enum class partition_phase {
  running,   ///< takes and handles records
  stopping,  ///< revoked: starts nothing, waits for acks, then reports its offset
  ended,     ///< quit() was called (escalation, an output refused for good)
};

/// What a running partition actor waits for before it starts another record.
/// Several may hold at once; each is cleared by its own message.
enum class partition_wait : unsigned {
  /// A failed record's retry backoff (`retry_atom`), a dead-letter write's
  /// retry, or exactly_once, the rewind after the abort it asked for.
  retry = 1,
  /// Room in the producer (`emit_sink::when_room` sends `room_atom`).
  room = 2,
  /// exactly_once: a transaction barrier it has not answered yet.
  barrier = 4,
  /// The task's stores are being restored (`restored_atom` ends it).
  restore = 8,
};

class partition_waits {
 public:
  void set(partition_wait w) { bits_ |= static_cast<unsigned>(w); }
  void clear(partition_wait w) { bits_ &= ~static_cast<unsigned>(w); }
  bool has(partition_wait w) const { return (bits_ & static_cast<unsigned>(w)) != 0; }

 private:
  unsigned bits_ = 0;
};

class partition_actor final : public caf::event_based_actor {
 public:
  partition_actor(caf::actor_config& ac, partition_actor_config cfg);

  const char* name() const override { return "kactor.partition_actor"; }
  caf::behavior make_behavior() override;
  void on_exit() override;

 private:
  using clock_type = std::chrono::steady_clock;
  /// Milliseconds since the epoch, for failure times.
  static std::int64_t wall_ms();
  /// A warning about this partition (the agent and input partition as the
  /// line's subject), through its `log_limiter`: a burst is written, the rest
  /// counted (`warnings_held_back`) and summed up in the next line written.
  template <class... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) {
    auto& c = counters();
    const auto held = c.warnings.admit(clock_type::now());
    if (!held) {
      c.warnings_held_back.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto line = fmt::format(format, std::forward<Args>(args)...);
    if (*held > 0) line += fmt::format(" ({} more warning(s) of this partition held back)", *held);
    log_about(log_level::warn, subject(), line);
  }
  /// This partition as a log line's subject.
  log_subject subject() const { return {cfg_.agent, input().topic, input().partition.value()}; }

  // Record loop (partition_actor.cpp).
  /// The user's behaviour's fallback and exception handlers.
  void install_handlers();
  void on_stop();
  /// Takes no record, its partition paused, until the task's stores are
  /// restored; binds them once they are.
  void await_stores();
  /// Once restored: the stores' changelog records become this actor's emits.
  void bind_stores();
  void take();
  /// What a held record counts against the actor's in-flight share.
  static std::size_t slot_bytes(const record_slot& slot) {
    return held_bytes(slot.ev.key().size(), slot.ev.value().size());
  }
  /// Drops the records held, unfinished (a revocation, a rewind).
  void drop_buffer();
  void schedule();
  void process_slice();
  /// Runs the handler on `slot`; false when the record failed and waits for a
  /// retry (it stays at the front of the buffer).
  bool handle(record_slot& slot);
  void wait_for_room();
  /// Whether the actor handles no record: answering a barrier, waiting for
  /// room in the producer, waiting for an abort, keeping as many bytes of
  /// deferred outputs as it may, or handing kept outputs over (those come
  /// first, in order).
  /// Held, it does not pause its partition: librdkafka 2.0.2 would drop the
  /// prefetched records and fetch them again.
  bool held() const;
  /// exactly_once: the bytes of outputs the actor keeps during a commit
  /// before it stands still: `max_deferred_bytes`, or its in-flight share
  /// if smaller, so that what the actors keep does not grow with the tasks
  /// held either.
  std::size_t deferred_limit() const;
  void on_acked();
  void store_progress();
  /// Stores the tracker's next offset of every lane set in `lanes` (bits).
  void store_lanes(std::uint64_t lanes);
  void store(std::uint32_t lane, kactor::offset next);
  /// Each lane's counters' offset (`stored_offset` or `committed_offset`).
  lane_offsets offsets(std::atomic<std::int64_t> partition_counters::*which) const;
  /// Lane `lane`'s counters; lane 0's carry the task's own figures.
  partition_counters& counters(std::uint32_t lane = 0) { return *cfg_.inputs[lane].counters; }
  const topic_partition& input(std::uint32_t lane = 0) const { return cfg_.inputs[lane].tp; }
  void maybe_finish_stop();
  void publish();
  bool stopping() const { return phase_ != partition_phase::running; }
  bool ended() const { return phase_ == partition_phase::ended; }
  bool waiting(partition_wait w) const { return waits_.has(w); }
  /// Runs the behaviour on `msg` as a record's handler (`what` names it in
  /// the error of a behaviour without a handler for it).
  void deliver(caf::message& msg, const char* what);

  // Timers and requests (partition_timers.cpp).
  friend class partition_context;
  /// Once the stores are bound: the timer and request tables, and a first
  /// look for due timers (those due while the task had no owner).
  void bind_timers();
  /// The timers' clock: ms since the epoch, advancing with the actor's clock
  /// (virtual time in tests).
  std::int64_t timer_now();
  /// A timer check is due at `due_ms` (none earlier is armed).
  void arm_timers(std::int64_t due_ms);
  /// Sends a firing record for each due timer not sent already (or sent
  /// longer than `timer_refire` ago), then arms the next check.
  void check_timers();
  /// Handles a record of an internal lane: a timer's firing or a reply.
  void deliver_internal(const record_slot& slot);
  void fire_timer(const event& firing);
  void take_reply(const event& response);
  /// A firing record goes to the dead-letter topic: its timer (and a timed
  /// out request) is removed, or it would fire again and again.
  void discard_firing(const event& firing);
  /// exactly_once rewind: firings sent in the aborted transaction are gone.
  void forget_firings();
  timer_table& timers();
  bool internal_lane(std::uint32_t lane) const {
    return cfg_.timer_lane >= 0 && lane >= static_cast<std::uint32_t>(cfg_.timer_lane);
  }

  // Failure path (partition_failures.cpp).
  bool on_failure(record_slot& slot, error_info failure);
  /// The failing record goes to the dead-letter topic; the partition goes on.
  void give_up(record_slot& slot);
  void write_dead_letter(record_slot& slot);
  void send_dead_letter(pending_dead_letter& p);
  /// A dead-letter write failed: at once (`at_once`: librdkafka refused it)
  /// or in its delivery report. What a retry can change decides: a transient
  /// failure is retried after a backoff (the partition waits); a record too
  /// large or invalid for the topic is written again in the next smaller
  /// form; a topic that cannot take it (or even the smallest form refused)
  /// escalates.
  void dead_letter_refused(pending_dead_letter& p, int code, const std::string& what, bool at_once);
  /// The partition cannot go on: nothing it would dead-letter can be
  /// written. The actor ends; its supervisor pauses the partition and marks
  /// the agent unhealthy with `cause`. Nothing after the stored offset is
  /// lost: the partition's next owner (or a restart) reads it again.
  void escalate(std::string cause);
  /// Acknowledged writes release their records; failed ones are written
  /// again (see `dead_letter_refused`) and hold the partition until then.
  void settle_dead_letters();
  void block_for_dead_letters();
  void rewrite_failed_dead_letters();
  /// An output of the record at `e` was not delivered. Returns whether the
  /// stored offset may pass it.
  ///
  /// exactly_once: its transaction fails as a whole and is aborted; an
  /// output refused for good (a topic that does not exist, a record too large
  /// for it) also sends the record to the DLQ on the next pass.
  /// at_least_once: the offset must not pass a record whose output is not in
  /// Kafka. Refused for good, the record goes to the DLQ: this actor ends and
  /// the next one, reading again from the stored offset, dead-letters it
  /// without running the handler. Otherwise the supervisor restarts the
  /// partition from the stored offset, so the record runs again (its outputs
  /// may be written twice: at-least-once).
  bool output_failed(const delivery_tracker::entry& e);

  // exactly_once participant (partition_transaction.cpp).
  void on_barrier();
  /// exactly_once: the offset may be committed only with every dead letter
  /// before it in the same transaction, i.e. handed to the producer.
  ///
  /// The actor does not wait for the commit: it goes on handling records and
  /// keeps their outputs (`deferred_`) until the release, when the next
  /// transaction is open. A barrier that comes before that release (the last
  /// commit failed, or a revocation) gets the offset the deferral started at.
  void answer_barrier();
  /// exactly_once release: the next transaction is open. The first kept
  /// output goes to the producer at once: a partition joins a transaction
  /// (AddPartitionsToTxn) only once librdkafka has a record for it, and
  /// librdkafka registers partitions in waves, one request at a time, so
  /// every actor marks its output partition before any actor hands over the
  /// rest. The rest follows in slices, as the producer has room.
  void end_deferral();
  /// Hands kept outputs to the producer until none is left, the slice ends
  /// or the producer is nearly full (until `emit_sink::when_room` wakes it).
  void hand_over(clock_type::time_point deadline);
  void hand_over_one();
  /// After the last kept output: the buffer is reused by the next deferral,
  /// and a barrier that came meanwhile gets its answer.
  void finish_hand_over();
  /// Forgets the kept outputs; those not handed over were never produced.
  void drop_deferred();
  /// exactly_once: the transaction was aborted; read again from `order.to`.
  void rewind(const task_rewind& order);
  /// exactly_once: the open transaction aborts and every partition rewinds
  /// (a record started now would only run again, and a failure it reported
  /// after the group thread counted attempts would slip past the retry
  /// limit), or the rewind's retry backoff has not passed yet.
  bool txn_holds() const { return cfg_.txn && cfg_.txn->holds(); }
  /// exactly_once: released, with kept outputs not yet handed to the producer.
  bool handing_over() const { return !deferring() && handed_ < deferred_.size(); }
  /// Outputs of records already handled go over even while a failed record
  /// waits (for its rewind or a dead-letter retry): a barrier waits for them.
  bool can_hand_over() const { return handing_over() && !waiting(partition_wait::room); }
  /// exactly_once: between a barrier's answer and the release (outputs kept).
  bool deferring() const { return ctx_.deferred_ != nullptr; }

  partition_actor_config cfg_;
  mailbox_bound bound_;
  backoff backoff_;
  partition_context ctx_;
  caf::message record_msg_;
  caf::behavior user_;
  delivery_tracker_ptr tracker_;
  std::deque<record_slot> buffer_;
  failing_record failing_;
  std::list<pending_dead_letter> dead_letters_;
  std::vector<lane_state> lanes_;
  /// Lanes (bits) this actor took no record of yet: only their first record
  /// may set the counters' `first_offset` (one bit test per record after).
  std::uint64_t lanes_without_first_;
  partition_phase phase_ = partition_phase::running;
  partition_waits waits_;
  /// A `process_atom` is on its way (at most one at a time).
  bool scheduled_ = false;
  /// When the actor last stopped being held (see held()). pause_after counts
  /// from then at the earliest: that time was the commit's or the
  /// producer's, not the handler's, and a pause would only make librdkafka
  /// drop the prefetch and fetch it again.
  caf::actor_clock::time_point hold_ended_{};
  bool was_held_ = false;  // at the last take()
  caf::response_promise stop_promise_;
  // exactly_once
  caf::response_promise barrier_promise_;
  deferred_outputs deferred_;
  /// After a release: how many kept outputs went to the producer so far.
  std::size_t handed_ = 0;
  std::size_t dead_letter_requests_ = 0;
  // Timers and requests
  std::optional<timer_table> timers_;
  std::optional<request_table> requests_;
  /// Firing records sent and not handled yet, by timer (name NUL key NUL due):
  /// when they were sent, on the timers' clock.
  std::map<std::string, std::int64_t> firings_;
  /// The pending timer check's time, and the number of the latest arming
  /// (an older check that arrives is ignored).
  std::int64_t armed_for_ = INT64_MAX;
  std::uint64_t arming_ = 0;
  std::int64_t wall_base_ms_ = 0;
  caf::actor_clock::time_point clock_base_{};
  std::mt19937_64 ids_;
  std::uint64_t requests_sent_ = 0;
  /// The timer being fired; `schedule` or `cancel` of it by its own handler
  /// clears `firing_pending_` (then the handler's say stands).
  std::string firing_name_, firing_key_;
  bool firing_pending_ = false;
};

}  // namespace kactor::detail
