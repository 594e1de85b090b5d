#include "actors/dead_letter_actor.hpp"

#include <caf/all.hpp>
#include <kactor/dead_letter.hpp>

namespace kactor::detail {}  // namespace kactor::detail

namespace kactor {

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::write_refused:
      return "write_refused";
  }
  return "unknown";
}

}  // namespace kactor

namespace kactor::detail {

const char* to_string(dead_letter_form f) noexcept {
  switch (f) {
    case dead_letter_form::full:
      return "full";
    case dead_letter_form::value_omitted:
      return "value_omitted";
    case dead_letter_form::minimal:
      return "minimal";
  }
  return "unknown";
}

std::string bounded_header_value(std::string_view value) {
  if (value.size() <= dlq_header::max_value) return std::string(value);
  auto keep = dlq_header::max_value - dlq_header::truncated_marker.size();
  // Never end inside a multi-byte character: back up over continuation bytes.
  while (keep > 0 && (static_cast<unsigned char>(value[keep]) & 0xC0) == 0x80) --keep;
  std::string out(value.substr(0, keep));
  out += dlq_header::truncated_marker;
  return out;
}

dead_letter_record encode(const dead_letter& d) {
  dead_letter_record out;
  const bool value = d.cause.form == dead_letter_form::full;
  const bool key_and_headers = d.cause.form != dead_letter_form::minimal;
  if (value) out.value = d.value;
  if (key_and_headers) {
    out.key = d.key;
    out.hdrs = d.hdrs;
  }
  auto add = [&](std::string_view name, std::string_view v) {
    out.hdrs.push_back(header{std::string(name), bounded_header_value(v)});
  };
  add(dlq_header::source_topic, d.topic);
  add(dlq_header::source_partition, std::to_string(d.partition.value()));
  add(dlq_header::source_offset, std::to_string(d.offset.value()));
  add(dlq_header::source_timestamp, std::to_string(d.timestamp_ms));
  add(dlq_header::agent, d.agent);
  add(dlq_header::error_class, to_string(d.cause.error.cls));
  add(dlq_header::error_message, d.cause.error.message);
  if (d.cause.error.message.size() > dlq_header::max_value)
    add(dlq_header::error_message_size, std::to_string(d.cause.error.message.size()));
  add(dlq_header::attempts, std::to_string(d.cause.attempts));
  add(dlq_header::first_failure_ms, std::to_string(d.cause.first_ms));
  add(dlq_header::last_failure_ms, std::to_string(d.cause.last_ms));
  if (!value) {
    add(dlq_header::value_omitted, "true");
    add(dlq_header::value_size, std::to_string(d.value.size()));
  }
  if (!key_and_headers) {
    add(dlq_header::key_omitted, "true");
    add(dlq_header::headers_omitted, "true");
  }
  if (d.cause.form != dead_letter_form::full)
    add(dlq_header::degraded_because, d.cause.degraded_because);
  return out;
}

dead_letter_actor spawn_dead_letter_actor(caf::actor_system& sys, std::string topic,
                                          emit_sink& sink) {
  return sys.spawn([topic = std::move(topic),
                    &sink](dead_letter_actor::pointer) -> dead_letter_actor::behavior_type {
    return {
        [=, &sink](const dead_letter& d) -> caf::result<bool> {
          const auto r = encode(d);
          try {
            sink.emit(topic, partition_id{-1}, r.key, r.value, r.hdrs, d.token);
            return true;
          } catch (const kafka_exception& e) {
            // A refusal without a Kafka code is still a refusal.
            return caf::make_error(errc::write_refused, e.info().code != 0 ? e.info().code : -1,
                                   std::string(e.what()));
          } catch (const std::exception& e) {
            return caf::make_error(errc::write_refused, -1, std::string(e.what()));
          }
        },
    };
  });
}

}  // namespace kactor::detail
