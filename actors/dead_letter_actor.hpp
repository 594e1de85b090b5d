#pragma once
// One per agent: writes records that cannot be processed to the agent's
// dead-letter topic. The write is tied to the source record's delivery
// tracker entry, so the source offset is stored only once the dead-letter
// record is acknowledged.

#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <kactor/event.hpp>

#include "actors/delivery_tracker.hpp"
#include "actors/emit_sink.hpp"

namespace kactor::detail {

/// A record on its way to the dead-letter topic: the original key, value and
/// headers plus kactor's context headers. `token` ties the write to the
/// source record's delivery tracker entry.
struct dead_letter {
  std::string key;
  std::string value;
  headers hdrs;
  delivery_tracker::entry* token = nullptr;
};

/// Spawns the dead-letter actor for `topic`. It answers each `dead_letter`
/// with true once librdkafka took the write and false if librdkafka refused it
/// at once (the sender retries). The partition actors count what is written.
caf::actor spawn_dead_letter_actor(caf::actor_system& sys, std::string topic, emit_sink& sink);

}  // namespace kactor::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::detail::dead_letter)
