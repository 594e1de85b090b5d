#include "actors/dead_letter_actor.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

namespace kactor::detail {

caf::actor spawn_dead_letter_actor(caf::actor_system& sys, std::string topic, emit_sink& sink,
                                   std::shared_ptr<std::atomic<std::uint64_t>> written) {
  return sys.spawn([topic = std::move(topic), &sink,
                    written = std::move(written)](caf::event_based_actor*) -> caf::behavior {
    return {
        [=, &sink](const dead_letter& d) {
          try {
            sink.emit(topic, partition_id{-1}, d.key, d.value, d.hdrs, d.token);
            written->fetch_add(1, std::memory_order_relaxed);
            return true;
          } catch (const std::exception& e) {
            spdlog::error("dead-letter write to {} refused: {}", topic, e.what());
            return false;
          }
        },
    };
  });
}

}  // namespace kactor::detail
