#pragma once
// What a consumer's group membership is doing, which librdkafka 2.0.2 tells
// only in its `cgrp` debug lines: whether a JoinGroup or SyncGroup is in
// flight, and whether the first SyncGroup succeeded. The group thread reads
// it when it stops (src/group/leave.cpp; docs/design.md, workarounds).

#include <atomic>

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

 private:
  std::atomic<bool> in_flight_{false}, answered_{false}, synced_{false};
};

}  // namespace kactor::detail
