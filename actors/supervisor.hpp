#pragma once
// One per agent: spawns the agent's partition actors, monitors them, restarts
// one that dies from its last stored offset (with backoff), and escalates when
// restarts come too often: the partition is paused and the agent reports
// itself unhealthy, instead of crash-looping. Revocation goes through it too,
// so a partition whose actor is between restarts still answers.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/partition_actor.hpp"

namespace kactor::detail {

/// Wakes a partition's current actor when its source has records. `wake`
/// runs on the source's thread (a librdkafka thread); the supervisor swaps
/// the actor on restart.
class wake_hook {
 public:
  void set(caf::actor a) {
    std::lock_guard lock(mx_);
    actor_ = std::move(a);
  }
  /// Sends `wake_atom` to the actor set last, if any; `opaque` is the hook.
  static void wake(void* opaque);

 private:
  std::mutex mx_;
  caf::actor actor_;
};

/// A partition to supervise. `hook` outlives the partition's supervision: the
/// group thread destroys it only after the revocation was answered.
struct partition_spec {
  partition_actor_config cfg;
  wake_hook* hook = nullptr;
};

/// Next offsets partition actors reported for each of their inputs (offset
/// -1: nothing to commit), answering a revocation or a transaction barrier.
struct partition_offsets {
  std::vector<std::pair<topic_partition, kactor::offset>> offsets;
};

/// exactly_once: where each partition starts again after an abort.
struct rewind_orders {
  std::vector<std::pair<topic_partition, rewind_order>> orders;
};

using assign_atom = caf::atom_constant<caf::atom("kx_assign")>;
using revoke_atom = caf::atom_constant<caf::atom("kx_revoke")>;
using restart_atom = caf::atom_constant<caf::atom("kx_restart")>;

/// Shared with `runtime::stats`.
struct agent_health {
  std::atomic<bool> healthy{true};

  /// Marks the agent unhealthy; the first cause is kept.
  void fail(std::string why) {
    std::lock_guard lock(mx);
    if (healthy.exchange(false)) cause = std::move(why);
  }
  /// A partition escalated: the agent's escalation policy acts (see
  /// supervision_policy::on_escalation). Set before the supervisor starts;
  /// runs on the supervisor's thread, once per escalated partition.
  std::function<void()> on_escalation;
  /// Why the agent is unhealthy (empty while healthy).
  std::string reason() const {
    std::lock_guard lock(mx);
    return cause;
  }

 private:
  mutable std::mutex mx;
  std::string cause;
};

/// The supervisor's protocol. Its callers are the group thread (through a
/// scoped actor) and the supervisor itself:
/// - `(assign_atom, partition_spec)` → true once the task's actor runs; a
///   task is named by its first input;
/// - `(revoke_atom, tasks)` → the next offset of every input of the listed
///   tasks once their actors have stopped (one between restarts answers its
///   stored offsets);
/// - exactly_once: `txn_barrier_atom` → every partition's next offset once all
///   stand between records (-1 for one that died meanwhile); `txn_release_atom`
///   is forwarded to every partition actor; `rewind_orders` (by input) →
///   true once every task's actor has its orders;
/// - `(restart_atom, tp)` is the supervisor's own timer after a death.
/// Messages to partition actors go at high priority (see supervisor.cpp).
using supervisor_actor = caf::typed_actor<
    caf::replies_to<assign_atom, partition_spec>::with<bool>,
    caf::replies_to<revoke_atom, std::vector<topic_partition>>::with<partition_offsets>,
    caf::replies_to<txn_barrier_atom>::with<partition_offsets>, caf::reacts_to<txn_release_atom>,
    caf::replies_to<rewind_orders>::with<bool>, caf::reacts_to<restart_atom, topic_partition>>;

supervisor_actor spawn_supervisor(caf::actor_system& sys, std::string agent,
                                  supervision_policy policy, std::shared_ptr<agent_health> health);

}  // namespace kactor::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::detail::partition_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::detail::partition_offsets)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::detail::rewind_orders)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<kactor::topic_partition>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::topic_partition)
