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
void join_watch::observe(const char* facility, const char* text) noexcept {
  if (std::strcmp(facility, "CGRPJOINSTATE") == 0) {
    if (const char* to = std::strstr(text, " -> ")) {
      to += 4;
      in_flight_.store(starts_with(to, "wait-join ") || starts_with(to, "wait-sync "),
                       std::memory_order_release);
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

}  // namespace kactor::detail
