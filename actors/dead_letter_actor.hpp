#pragma once
// One per agent: writes records that cannot be processed to the agent's
// dead-letter topic, with their failure's context in headers, in the fullest
// form the topic can hold (see <kactor/dead_letter.hpp>). The write is tied
// to the source record's delivery tracker entry, so the source offset is
// stored only once the dead-letter record is acknowledged.

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <kactor/error.hpp>
#include <kactor/event.hpp>

#include "actors/delivery_tracker.hpp"
#include "actors/emit_sink.hpp"
#include "actors/errc.hpp"

namespace kactor::detail {

/// How much of the failed record a dead letter carries; each step is tried
/// only after the topic refused the one before as too large or invalid.
enum class dead_letter_form : std::uint8_t {
  full,           ///< key, value and headers byte for byte
  value_omitted,  ///< the value left out
  minimal,        ///< key, value and the record's own headers left out
};

/// "full", "value_omitted" or "minimal".
const char* to_string(dead_letter_form f) noexcept;

/// Why a record goes to the dead-letter topic, over all its attempts, and
/// the fullest form its dead letter may still take.
struct dead_letter_cause {
  /// The last failure.
  error_info error;
  /// How often the handler ran on the record; first and last failure, in
  /// milliseconds since the epoch.
  std::size_t attempts = 0;
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
  dead_letter_form form = dead_letter_form::full;
  /// Degraded forms: what the producer answered to the fuller form.
  std::string degraded_because;
};

/// A record on its way to the dead-letter topic: the record as consumed and
/// why it goes there. `token` ties the write to the source record's delivery
/// tracker entry.
struct dead_letter {
  std::string topic;
  partition_id partition;
  kactor::offset offset;
  std::int64_t timestamp_ms = -1;
  std::string key;
  std::string value;
  headers hdrs;
  std::string agent;
  dead_letter_cause cause;
  delivery_tracker::entry* token = nullptr;
};

/// What kactor writes for `d` in `d.cause.form`. The views point into `d`; a null
/// view (omitted) is written as a null key or value.
struct dead_letter_record {
  std::string_view key;
  std::string_view value;
  headers hdrs;
};

/// Builds the dead-letter record: the record's part that `d.cause.form`
/// keeps, then its context through `encode_dead_letter_headers`.
dead_letter_record encode(const dead_letter& d);

/// The dead-letter actor's protocol: it answers each `dead_letter` with true
/// once librdkafka took the write, or with the error `errc::write_refused`
/// (context: librdkafka's error code, or -1, and its text) if it refused it
/// at once; the sender decides what next.
using dead_letter_actor = caf::typed_actor<caf::replies_to<dead_letter>::with<bool>>;

/// Spawns the dead-letter actor for `topic`, writing through `sink` (which
/// outlives it).
dead_letter_actor spawn_dead_letter_actor(caf::actor_system& sys, std::string topic,
                                          emit_sink& sink);

}  // namespace kactor::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kactor::detail::dead_letter)
