#pragma once
// What a consumer's group membership is doing, which librdkafka 2.0.2 tells
// only in its `cgrp` debug lines: whether a JoinGroup or SyncGroup is in
// flight, whether an assignment may still reach the application, whether
// the first SyncGroup succeeded, and whether a destroy is stuck. The group
// thread reads it when it stops (src/group/leave.cpp; docs/design.md,
// workarounds).

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace kactor::detail {

/// Follows one consumer's JoinGroup and SyncGroup exchanges through its
/// log lines; the consumer's `debug` must include `cgrp`. `observe` runs on
/// librdkafka's threads, the queries on any thread.
class join_watch {
 public:
  /// One librdkafka log line, its facility and text; other lines are ignored.
  void observe(const char* facility, const char* text) noexcept;

  /// A JoinGroup or SyncGroup is in flight. The coordinator answers one
  /// connection's requests in order and holds a JoinGroup until every member
  /// has rejoined, so a LeaveGroup sent now waits behind it: librdkafka
  /// gives it 5 s, then logs two errors and disconnects, and the member
  /// stays in the group until its session times out anyway.
  bool request_in_flight() const noexcept { return in_flight_.load(std::memory_order_acquire); }

  /// A JoinGroup was answered but no SyncGroup has succeeded yet: destroying
  /// a cooperative-sticky consumer now aborts the process (librdkafka #4312,
  /// fixed in 2.3.0; scripts/probes/close_during_first_join.c).
  bool first_sync_pending() const noexcept {
    return answered_.load(std::memory_order_acquire) && !synced_.load(std::memory_order_acquire);
  }

  /// An assignment may still be handed to the application: a JoinGroup was
  /// answered and its SyncGroup is on its way (join-states wait-metadata,
  /// wait-sync), or an assignment or revocation waits in the consumer's
  /// queue (wait-assign-call, wait-unassign-call) until the next poll.
  bool assignment_may_come() const noexcept {
    return assignment_may_come_.load(std::memory_order_acquire);
  }

  /// Blocks until `destroyed` is called or librdkafka's termination is
  /// stuck: an assignment queued before the termination began and never
  /// served holds it forever, its main thread spinning ("waiting for assign
  /// call ... join-state wait-assign-call"; librdkafka 2.0.2 unassigns only
  /// a pending revocation; scripts/probes/destroy_with_pending_assignment.c).
  /// Returns true once destroyed, false if stuck. One waiter, on the thread
  /// that runs the destroy elsewhere.
  bool await_destroy();
  /// The destroy returned (the thread that ran it).
  void destroyed();
  /// The termination is stuck (see await_destroy).
  bool destroy_stuck();

 private:
  std::atomic<bool> in_flight_{false}, answered_{false}, synced_{false},
      assignment_may_come_{false};
  std::mutex mx_;
  std::condition_variable cv_;
  bool destroyed_ = false, stuck_ = false;
};

}  // namespace kactor::detail
