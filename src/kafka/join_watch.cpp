#include "src/kafka/join_watch.hpp"

#include <cstring>

namespace kactor::detail {

namespace {

bool starts_with(const char* s, const char* prefix) {
  return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

}  // namespace

// The lines, as librdkafka 2.0.2 writes them (src/rdkafka_cgrp.c), after a
// "[thrd:main]: " prefix:
//   CGRPJOINSTATE  Group "g" changed join state wait-join -> wait-sync (state up)
//   JOINGROUP      JoinGroup response: GenerationId 2, Protocol ..., ...: (no error)
//   SYNCGROUP      SyncGroup response: Success (42 bytes of MemberState data)
//   CGRPTERM       Group "g": waiting for assign call, 0 toppar(s), 0 commit(s)
//                  (state up, join-state wait-assign-call) before terminating
void join_watch::observe(const char* facility, const char* text) noexcept {
  if (std::strcmp(facility, "CGRPJOINSTATE") == 0) {
    if (const char* to = std::strstr(text, " -> ")) {
      to += 4;
      in_flight_.store(starts_with(to, "wait-join ") || starts_with(to, "wait-sync "),
                       std::memory_order_release);
      assignment_may_come_.store(
          starts_with(to, "wait-metadata ") || starts_with(to, "wait-sync ") ||
              starts_with(to, "wait-assign-call ") || starts_with(to, "wait-unassign-call "),
          std::memory_order_release);
    }
  } else if (std::strcmp(facility, "CGRPTERM") == 0) {
    if (std::strstr(text, "waiting for assign call") != nullptr &&
        std::strstr(text, "join-state wait-assign-call)") != nullptr) {
      std::lock_guard lock(mx_);
      stuck_ = true;
      cv_.notify_all();
    }
  } else if (std::strcmp(facility, "JOINGROUP") == 0) {
    if (std::strstr(text, "JoinGroup response: GenerationId") != nullptr &&
        std::strstr(text, ": (no error)") != nullptr)
      answered_.store(true, std::memory_order_release);
  } else if (std::strcmp(facility, "SYNCGROUP") == 0) {
    if (std::strstr(text, "SyncGroup response: Success") != nullptr)
      synced_.store(true, std::memory_order_release);
  }
}

bool join_watch::await_destroy() {
  std::unique_lock lock(mx_);
  cv_.wait(lock, [this] { return destroyed_ || stuck_; });
  return destroyed_;
}

bool join_watch::destroy_stuck() {
  std::lock_guard lock(mx_);
  return stuck_;
}

void join_watch::destroyed() {
  std::lock_guard lock(mx_);
  destroyed_ = true;
  cv_.notify_all();
}

}  // namespace kactor::detail
