#pragma once
// The actor that owns one assigned task (partition p of each of its agent's
// inputs; see partition_source.hpp): it takes records from its source (never
// more than max_poll_records held over all inputs), runs the agent's
// behaviour on each, and stores offsets of finished records. The record loop
// is partition_actor.cpp, the failure path (retries, dead letters)
// partition_failures.cpp, the exactly_once participant partition_transaction.cpp.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <kactor/config.hpp>
#include <kactor/context.hpp>

#include "actors/dead_letter_actor.hpp"
#include "actors/emit_sink.hpp"
#include "actors/partition_counters.hpp"
#include "actors/partition_source.hpp"
#include "actors/task_state.hpp"
#include "actors/transaction_protocol.hpp"

namespace kactor::detail {

/// The partition's queue has records (sent from a librdkafka thread).
using wake_atom = caf::atom_constant<caf::atom("kx_wake")>;
/// Handle the next slice of held records (sent to self).
using process_atom = caf::atom_constant<caf::atom("kx_proc")>;
/// Revocation or shutdown: finish the record in hand, wait for acks, reply with
/// the next offset to commit of each input (`lane_offsets`) and exit. Sent
/// with high priority.
using stop_atom = caf::atom_constant<caf::atom("kx_stop")>;
/// A retry's (or a dead-letter write's) backoff has passed (sent to self).
using retry_atom = caf::atom_constant<caf::atom("kx_retry")>;
/// The producer has room again (sent by `emit_sink::when_room`'s wake).
using room_atom = caf::atom_constant<caf::atom("kx_room")>;
/// The task's stores are restored (sent by `task_state::when_ready`'s wake).
using restored_atom = caf::atom_constant<caf::atom("kx_rstrd")>;
/// Look for due timers (sent to self, with the arming's number: a check
/// armed since replaces it).
using timer_check_atom = caf::atom_constant<caf::atom("kx_timer")>;

/// One input partition of a task.
struct task_input {
  topic_partition tp;
  /// What the partition's actors publish about it. The first input's also
  /// carry the task's own figures: in flight, paused, restoring, escalated.
  std::shared_ptr<partition_counters> counters;
  /// Shared by the task's successive actors: an actor that dies because an
  /// output was refused for good leaves the record here (at_least_once),
  /// and the next one dead-letters it when it takes it again.
  std::shared_ptr<poison_map> poison = std::make_shared<poison_map>();
};

struct partition_actor_config {
  std::string agent;
  /// Lane i's input partition; all have the same partition number.
  std::vector<task_input> inputs;
  std::size_t max_poll_records = 500;
  std::size_t resume_below = 0;
  std::chrono::milliseconds pause_after{0};
  /// The bytes the actor's held records may take (its agent's
  /// `in_flight_budget::share`, which outlives the actor); null: no bound
  /// but `max_poll_records`.
  const std::atomic<std::size_t>* in_flight_share = nullptr;
  supervision_policy policy;
  /// The agent's dead-letter actor (protocol: `dead_letter_actor`).
  dead_letter_actor dead_letters;
  /// Set in exactly_once mode: failures abort the transaction instead of
  /// being retried in place.
  std::shared_ptr<transaction_control> txn;
  std::chrono::milliseconds tick_every{0};
  behavior_factory factory;
  std::shared_ptr<partition_source> source;
  emit_sink* sink = nullptr;  // outlives every partition actor
  /// The task's state stores (null: the agent declared none). The actor
  /// takes no record before they are restored.
  std::shared_ptr<task_state> state;
  /// Longest slice of records handled in one actor turn before yielding to
  /// other messages (stop, ticks, acks).
  std::chrono::microseconds slice{2000};
  /// exactly_once: bytes (topics, keys, values, headers) of outputs the actor
  /// may keep while a commit runs before it stands still until the release.
  /// As much as librdkafka prefetches per partition (queued.max.messages.kbytes
  /// = 4096), so a commit that outlasts the prefetch holds handling, not less;
  /// bounded again by `in_flight_share` when that is smaller (many tasks).
  std::size_t max_deferred_bytes = std::size_t{4} << 20;
  /// Timers (agent_config::timers): the lane of the internal topic through
  /// which due timers come back, and (requests) of the reply topic; -1:
  /// none. Internal lanes come after the agent's own inputs.
  int timer_lane = -1;
  int reply_lane = -1;
  /// A due timer whose firing record was not handled this long after it was
  /// sent is sent again (the first may be lost with an aborted transaction
  /// or a failed delivery; a second firing of one timer finds nothing).
  std::chrono::milliseconds timer_refire{10000};
};

/// Spawns a partition actor. It starts idle and takes records on `wake_atom`.
/// It exits normally after `stop_atom`; any other exit carries the error.
caf::actor spawn_partition_actor(caf::actor_system& sys, partition_actor_config cfg);

}  // namespace kactor::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::offset)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::detail::lane_offsets)
