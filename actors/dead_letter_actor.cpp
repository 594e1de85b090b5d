#include "actors/dead_letter_actor.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

namespace kactor::detail {

caf::actor spawn_dead_letter_actor(caf::actor_system& sys, std::string topic, emit_sink& sink) {
  return sys.spawn([topic = std::move(topic), &sink](caf::event_based_actor*) -> caf::behavior {
    return {
        [=, &sink](const dead_letter& d) {
          try {
            sink.emit(topic, partition_id{-1}, d.key, d.value, d.hdrs, d.token);
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
