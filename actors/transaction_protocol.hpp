#pragma once
// exactly_once: what the group thread's transaction cycle and the partition
// actors say to each other, through the supervisor (messages) and through
// `transaction_control` (shared, lock-protected).

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <kactor/error.hpp>
#include <kactor/types.hpp>

#include "actors/dead_letter_actor.hpp"
#include "actors/partition_source.hpp"

namespace kactor::detail {

// exactly_once: the group thread's transaction cycle, fanned out by the
// supervisor. `txn_barrier_atom` (high priority): stop between records and
// reply with the next offset to commit (a `kactor::offset`, -1: nothing handled
// yet), once every
// dead letter is handed to the producer. `txn_release_atom`: go on.
// `rewind_order`: drop what is held and read again from `to`.
using txn_barrier_atom = caf::atom_constant<caf::atom("kx_txbar")>;
using txn_release_atom = caf::atom_constant<caf::atom("kx_txrel")>;

/// Records a partition actor dead-letters when it takes them, without running
/// the handler, by offset: exactly_once, records that failed too often across
/// aborted transactions; either guarantee, records an output of which was
/// refused for good.
using poison_map = std::map<kactor::offset, dead_letter_cause>;

/// exactly_once: where a rewound partition starts again (-1: where it is),
/// and its records that are out of retries, by offset.
struct rewind_order {
  kactor::offset to{-1};
  poison_map poison;
};

/// exactly_once: a task's rewind, one order per lane (see partition_source.hpp).
struct task_rewind {
  std::vector<rewind_order> lanes;

  /// Each lane's `to`: the offsets the task's stores roll back to.
  lane_offsets targets() const {
    lane_offsets out;
    for (const auto& o : lanes) out.next.push_back(o.to);
    return out;
  }
};

/// exactly_once: how a partition actor asks the group thread to abort the
/// open transaction (a handler failed retriably: its emits must not commit).
struct transaction_control {
  struct failure {
    topic_partition tp;
    kactor::offset offset{-1};
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

}  // namespace kactor::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::detail::task_rewind)
