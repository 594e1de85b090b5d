#include "actors/dead_letter_actor.hpp"

#include <caf/all.hpp>
#include <kactor/dead_letter.hpp>

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

dead_letter_record encode(const dead_letter& d) {
  dead_letter_record out;
  const bool value = d.cause.form == dead_letter_form::full;
  const bool key_and_headers = d.cause.form != dead_letter_form::minimal;
  if (value) out.value = d.value;
  if (key_and_headers) {
    out.key = d.key;
    out.hdrs = d.hdrs;
  }
  dead_letter_context ctx;
  ctx.source_topic = d.topic;
  ctx.source_partition = d.partition;
  ctx.source_offset = d.offset;
  ctx.source_timestamp_ms = d.timestamp_ms;
  ctx.agent = d.agent;
  ctx.error_class = d.cause.error.cls;
  ctx.error_message = d.cause.error.message;
  ctx.attempts = d.cause.attempts;
  ctx.first_failure_ms = d.cause.first_ms;
  ctx.last_failure_ms = d.cause.last_ms;
  if (!value) {
    ctx.value_omitted = true;
    ctx.value_size = d.value.size();
  }
  ctx.key_omitted = ctx.headers_omitted = !key_and_headers;
  if (d.cause.form != dead_letter_form::full) ctx.degraded_because = d.cause.degraded_because;
  encode_dead_letter_headers(ctx, out.hdrs);
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
