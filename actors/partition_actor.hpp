#pragma once
// The actor that owns one assigned partition: it takes records from the
// partition's own librdkafka queue (never more than max_poll_records held),
// runs the agent's behaviour on each, and stores offsets of finished records.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include <kactor/runtime.hpp>

#include "actors/dead_letter_actor.hpp"
#include "actors/delivery_tracker.hpp"
#include "actors/emit_sink.hpp"
#include "src/kafka_handles.hpp"

namespace kactor::detail {

/// The partition's queue has records (sent from a librdkafka thread).
using wake_atom = caf::atom_constant<caf::atom("kx_wake")>;
/// Handle the next slice of held records (sent to self).
using process_atom = caf::atom_constant<caf::atom("kx_proc")>;
/// Revocation or shutdown: finish the record in hand, wait for acks, reply with
/// the next offset to commit (-1 if none) and exit. Sent with high priority.
using stop_atom = caf::atom_constant<caf::atom("kx_stop")>;
/// A retry's (or a dead-letter write's) backoff has passed (sent to self).
using retry_atom = caf::atom_constant<caf::atom("kx_retry")>;
/// Look again whether the producer has room (sent to self).
using room_atom = caf::atom_constant<caf::atom("kx_room")>;

// exactly_once: the group thread's transaction cycle, fanned out by the
// supervisor. `txn_barrier_atom` (high priority): stop between records and
// reply with the next offset to commit (-1: nothing handled yet), once every
// dead letter is handed to the producer. `txn_release_atom`: go on.
// `rewind_order`: drop what is held and read again from `to`.
using txn_barrier_atom = caf::atom_constant<caf::atom("kx_txbar")>;
using txn_release_atom = caf::atom_constant<caf::atom("kx_txrel")>;

/// Records a partition actor dead-letters when it takes them, without running
/// the handler, by offset: exactly_once, records that failed too often across
/// aborted transactions; either guarantee, records an output of which was
/// refused for good.
using poison_map = std::map<std::int64_t, dead_letter_cause>;

/// exactly_once: where a rewound partition starts again, and its records that
/// are out of retries, by offset.
struct rewind_order {
  std::int64_t to = -1;
  poison_map poison;
};

/// exactly_once: how a partition actor asks the group thread to abort the
/// open transaction (a handler failed retriably: its emits must not commit).
struct transaction_control {
  struct failure {
    topic_partition tp;
    std::int64_t offset = -1;
    error_info error;
    std::int64_t at_ms = 0;
    /// Set when the record at `offset` goes to the DLQ on the next pass
    /// whatever its attempts (an output of it was refused for good, or its
    /// dead letter needs a smaller form); it replaces what was counted.
    std::optional<dead_letter_cause> set_aside;
  };
  std::mutex mx;
  std::vector<failure> failures;
  std::atomic<bool> abort_requested{false};
  /// After a rewind, until the aborted records' retry backoff has passed.
  std::atomic<bool> backing_off{false};

  /// A partition actor: the open transaction must abort. Until `resume`,
  /// no partition actor of the consumer starts a record (it would be rewound).
  void report(failure f) {
    std::lock_guard lock(mx);
    failures.push_back(std::move(f));
    abort_requested = true;
  }
  /// Group thread: the failures reported so far.
  std::vector<failure> take() {
    std::lock_guard lock(mx);
    return std::exchange(failures, {});
  }
  /// Group thread, before an abort it decided on its own (a barrier timed
  /// out, the producer failed): holds the partition actors as `report` does.
  void request_abort() { abort_requested = true; }
  /// Group thread, after the rewind: partition actors start records again
  /// once the backoff is over (`end_backoff`), if `hold_for_backoff` began one.
  void resume() { abort_requested = false; }
  /// Group thread, before the rewind: no partition actor starts a record
  /// until `end_backoff`. The group thread goes on polling meanwhile.
  void hold_for_backoff() { backing_off = true; }
  void end_backoff() { backing_off = false; }

  /// Partition actors: whether to start no record now.
  bool holds() const {
    return abort_requested.load(std::memory_order_acquire) ||
           backing_off.load(std::memory_order_acquire);
  }
};

/// A record taken from the partition, with the buffer its event points into.
struct record_slot {
  event ev;
  message_ptr native;  // null for records that do not come from librdkafka
  std::chrono::steady_clock::time_point taken_at{};  // on the actor clock (see take())
};

/// Where a partition actor's records come from; the seam tests replace.
class partition_source {
 public:
  virtual ~partition_source() = default;
  /// Appends up to `max` records without blocking; returns how many.
  virtual std::size_t take(std::size_t max, std::deque<record_slot>& out) = 0;
  /// Whether more records are already waiting.
  virtual bool has_backlog() = 0;
  virtual void pause() = 0;
  virtual void resume() = 0;
  /// Stores `next` as the offset to commit.
  virtual void store(kactor::offset next) = 0;
  /// Makes `next` the next record handed out (a restarted actor resumes from
  /// its predecessor's last stored offset) and resumes the partition.
  virtual void rewind(kactor::offset next) = 0;
};

/// Counters a partition actor publishes; read by `runtime::stats` from any thread.
struct partition_counters {
  std::atomic<bool> assigned{false};
  /// Offset of the first record an actor took since the assignment; where a
  /// restart rewinds to when nothing was stored yet.
  std::atomic<std::int64_t> first_offset{-1};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> restarts{0};
  /// The supervisor gave up on the partition: it is paused.
  std::atomic<bool> escalated{false};
  /// exactly_once: the offset the last committed transaction holds.
  std::atomic<std::int64_t> committed_offset{-1};
  std::atomic<std::uint64_t> assignments{0};
  std::atomic<std::uint64_t> revocations{0};
  std::atomic<std::uint64_t> processed{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> duplicates_dropped{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> max_in_flight{0};
  std::atomic<bool> paused{false};
  std::atomic<std::uint64_t> pauses{0};
  std::atomic<std::uint64_t> resumes{0};
  std::atomic<std::int64_t> stored_offset{-1};

  /// Marks the partition escalated, for `cause`; the first cause stays.
  void escalate(std::string cause) {
    std::lock_guard lock(mx_);
    if (!escalated.exchange(true)) escalation_ = std::move(cause);
  }
  /// Why the partition escalated (empty if it did not).
  std::string escalation() const {
    std::lock_guard lock(mx_);
    return escalation_;
  }
  /// A new assignment: no longer escalated.
  void clear_escalation() {
    std::lock_guard lock(mx_);
    escalated = false;
    escalation_.clear();
  }

 private:
  mutable std::mutex mx_;
  std::string escalation_;
};

struct partition_actor_config {
  std::string agent;
  topic_partition tp;
  std::size_t max_poll_records = 500;
  std::size_t resume_below = 0;
  std::chrono::milliseconds pause_after{0};
  supervision_policy policy;
  /// The agent's dead-letter actor; answers a `dead_letter` with true once
  /// librdkafka took the write, false if it refused it.
  caf::actor dead_letters;
  /// Set in exactly_once mode: failures abort the transaction instead of
  /// being retried in place.
  std::shared_ptr<transaction_control> txn;
  std::chrono::milliseconds tick_every{0};
  behavior_factory factory;
  std::shared_ptr<partition_source> source;
  emit_sink* sink = nullptr;  // outlives every partition actor
  std::shared_ptr<partition_counters> counters;
  /// Shared by the partition's successive actors: an actor that dies because
  /// an output was refused for good leaves the record here (at_least_once),
  /// and the next one dead-letters it when it takes it again.
  std::shared_ptr<poison_map> poison = std::make_shared<poison_map>();
  /// Longest slice of records handled in one actor turn before yielding to
  /// other messages (stop, ticks, acks).
  std::chrono::microseconds slice{2000};
  /// exactly_once: bytes (topics, keys, values, headers) of outputs the actor
  /// may keep while a commit runs before it stands still until the release.
  /// As much as librdkafka prefetches per partition (queued.max.messages.kbytes
  /// = 4096), so a commit that outlasts the prefetch holds handling, not less.
  std::size_t max_deferred_bytes = std::size_t{4} << 20;
  /// How long an actor whose handler emits waits before it looks again
  /// whether a saturated producer has room (`emit_sink::saturated`).
  std::chrono::milliseconds room_poll{1};
};

/// Spawns a partition actor. It starts idle and takes records on `wake_atom`.
/// It exits normally after `stop_atom`; any other exit carries the error.
caf::actor spawn_partition_actor(caf::actor_system& sys, partition_actor_config cfg);

}  // namespace kactor::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::detail::rewind_order)
