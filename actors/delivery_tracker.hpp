#pragma once
// Tracks which records of one task are finished: handled, and every record
// they emitted acknowledged by the broker. Only finished records' offsets may
// be stored (at-least-once without losing outputs on a crash). Records finish
// in the order they began, across the task's lanes (inputs): a lane's offset
// moves past a record only when every record begun before it, of any lane,
// is finished.
//
// Threads: `begin`, `add_emit`, `end` and `advance` run on the partition
// actor; `delivered` runs on the producer's poll thread. Entries live in a
// deque, whose push_back/pop_front never move other elements, so a delivery
// report can hold a pointer to its entry; an entry is popped only after its
// last outstanding count is gone, and each pending emit holds a reference to
// the tracker, so neither outlives a report that points at it.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/ref_counted.hpp>
#include <caf/send.hpp>
#include <caf/weak_intrusive_ptr.hpp>

#include <kactor/types.hpp>

#include "actors/partition_source.hpp"

namespace kactor::detail {

using acked_atom = caf::atom_constant<caf::atom("kx_acked")>;

class delivery_tracker : public caf::ref_counted {
 public:
  struct entry {
    entry(delivery_tracker* t, std::uint32_t l, kactor::offset o) : owner(t), source(o), lane(l) {}
    delivery_tracker* owner;
    kactor::offset source;
    /// The task's input the record came from.
    std::uint32_t lane;
    /// 1 while the handler runs, +1 per unacknowledged emit.
    std::atomic<int> outstanding{1};
    /// The librdkafka error code of the first failed emit (0: none failed).
    std::atomic<int> error{0};
    /// Set by the actor while this record's dead-letter write is not yet
    /// known to have succeeded: `advance` stops here even when nothing is
    /// outstanding (a failed write must be retried, never skipped).
    bool hold = false;
    /// The record went to the dead-letter topic: a failure is its dead
    /// letter's (or of an output it made before failing), never a reason to
    /// dead-letter it again.
    bool dead_letter = false;
    /// What failed, written with `error` (the topic, partition and
    /// librdkafka's text); allocated only on failure, the entry stays small
    /// on the record's path. Read it only once `outstanding` is 0: every
    /// writer's report happened before.
    std::unique_ptr<std::string> failure_text;

    bool failed() const { return error.load(std::memory_order_relaxed) != 0; }
    /// What the first failure said (empty if none).
    std::string failure() const { return failure_text ? *failure_text : std::string(); }
    /// The actor, for a write it will make again: forget the last failure.
    void clear_failure() {
      error.store(0, std::memory_order_relaxed);
      failure_text.reset();
    }
    /// Records the first failure; later ones only count.
    void fail(int code, std::string_view what) {
      int none = 0;
      if (error.compare_exchange_strong(none, code, std::memory_order_relaxed))
        failure_text = std::make_unique<std::string>(what);
    }
  };

  explicit delivery_tracker(caf::weak_actor_ptr owner) : actor_(std::move(owner)) {
    next_.fill(kactor::offset{-1});
  }

  /// The handler starts on the record at `o` of lane `lane` (< max_task_inputs).
  entry* begin(std::uint32_t lane, kactor::offset o) {
    return &entries_.emplace_back(this, lane, o);
  }

  /// The handler emitted one record for `e`; call before handing it to librdkafka.
  void add_emit(entry* e) {
    ref();
    e->outstanding.fetch_add(1, std::memory_order_relaxed);
  }

  /// librdkafka refused an emit synchronously: undo `add_emit`.
  void cancel_emit(entry* e) {
    e->outstanding.fetch_sub(1, std::memory_order_acq_rel);
    deref();
  }

  /// The handler returned (or threw).
  void end(entry* e) { e->outstanding.fetch_sub(1, std::memory_order_acq_rel); }

  /// Producer poll thread: one emit of `e` was acknowledged (`code` 0) or
  /// failed with librdkafka error `code`; `what` says what failed.
  static void delivered(entry* e, int code, std::string_view what = {}) {
    delivery_tracker* t = e->owner;
    if (code != 0) e->fail(code, what);
    e->outstanding.fetch_sub(1, std::memory_order_acq_rel);
    // `e` may be gone from here on; `t` is kept alive by this emit's reference.
    if (!t->wake_pending_.exchange(true, std::memory_order_acq_rel)) {
      if (auto a = t->actor_.lock())
        caf::anon_send(caf::actor_cast<caf::actor>(a), acked_atom::value);
    }
    t->deref();
  }
  /// A bool would convert to error code 1: say the code.
  static void delivered(entry*, bool) = delete;

  /// Actor: clears the wake flag before looking at entries, so no report is missed.
  void acknowledge_wake() { wake_pending_.store(false, std::memory_order_release); }

  /// What `advance` found: the lanes whose next offset to store moved (bit
  /// i: lane i; see `next`), and the record it stopped at because one of its
  /// emits failed (null if none).
  struct progress {
    std::uint64_t moved = 0;
    const entry* failed = nullptr;
  };
  /// Actor: pops finished entries. With `keep_failed` it stops at a record
  /// one of whose emits failed (its output is not in Kafka: the offset must
  /// not pass it) and reports it; otherwise such records finish too.
  progress advance(bool keep_failed = false) {
    progress out;
    while (!entries_.empty() && !entries_.front().hold &&
           entries_.front().outstanding.load(std::memory_order_acquire) == 0) {
      if (keep_failed && entries_.front().failed()) {
        out.failed = &entries_.front();
        break;
      }
      out.moved |= pop_front();
    }
    return out;
  }
  /// The offset after the last finished record of `lane` that `advance` or
  /// `pop_failed` popped (-1: none yet).
  kactor::offset next(std::uint32_t lane) const { return next_[lane]; }
  /// Actor: finishes the failed entry `advance(true)` stopped at after all
  /// (exactly_once: its transaction answers for the failed output); returns
  /// its lane's bit (see `next`).
  std::uint64_t pop_failed() { return pop_front(); }
  /// Whether nothing is outstanding any more (held entries included): what a
  /// stopping actor waits for before it reports its offset.
  bool settled() const {
    for (const auto& e : entries_)
      if (e.outstanding.load(std::memory_order_acquire) != 0) return false;
    return true;
  }

 private:
  std::uint64_t pop_front() {
    const auto lane = entries_.front().lane;
    next_[lane] = kactor::offset{entries_.front().source.value() + 1};
    entries_.pop_front();
    return std::uint64_t{1} << lane;
  }

  caf::weak_actor_ptr actor_;
  std::deque<entry> entries_;
  std::array<kactor::offset, max_task_inputs> next_;
  std::atomic<bool> wake_pending_{false};
};

using delivery_tracker_ptr = caf::intrusive_ptr<delivery_tracker>;

}  // namespace kactor::detail
