#include <kactor/dead_letter.hpp>

#include <charconv>

namespace kactor {

namespace dlq_header {

std::string bounded(std::string_view value) {
  if (value.size() <= max_value) return std::string(value);
  auto keep = max_value - truncated_marker.size();
  // Never end inside a multi-byte character: back up over continuation bytes.
  while (keep > 0 && (static_cast<unsigned char>(value[keep]) & 0xC0) == 0x80) --keep;
  std::string out(value.substr(0, keep));
  out += truncated_marker;
  return out;
}

}  // namespace dlq_header

namespace {

template <class T>
std::optional<T> parse_number(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  T v{};
  const auto* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<error_class> parse_class(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  for (auto c : {error_class::retriable, error_class::abortable, error_class::irrecoverable,
                 error_class::fatal})
    if (*text == to_string(c)) return c;
  return std::nullopt;
}

std::optional<std::string> text_of(std::optional<std::string_view> v) {
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

}  // namespace

std::string dead_letter_context::source() const {
  auto or_dash = [](const auto& v) { return v ? std::to_string(v->value()) : std::string("-"); };
  return source_topic.value_or("-") + "/" + or_dash(source_partition) + "@" +
         or_dash(source_offset);
}

void encode_dead_letter_headers(const dead_letter_context& ctx, headers& out) {
  namespace h = dlq_header;
  auto add = [&](std::string_view name, std::string_view v) {
    out.push_back(header{std::string(name), h::bounded(v)});
  };
  auto add_number = [&](std::string_view name, const auto& v) {
    if (v) add(name, std::to_string(*v));
  };
  if (ctx.source_topic) add(h::source_topic, *ctx.source_topic);
  if (ctx.source_partition) add(h::source_partition, std::to_string(ctx.source_partition->value()));
  if (ctx.source_offset) add(h::source_offset, std::to_string(ctx.source_offset->value()));
  add_number(h::source_timestamp, ctx.source_timestamp_ms);
  if (ctx.agent) add(h::agent, *ctx.agent);
  if (ctx.error_class) add(h::error_class, to_string(*ctx.error_class));
  if (ctx.error_message) {
    add(h::error_message, *ctx.error_message);
    if (ctx.error_message->size() > h::max_value)
      add(h::error_message_size, std::to_string(ctx.error_message->size()));
  }
  add_number(h::attempts, ctx.attempts);
  add_number(h::first_failure_ms, ctx.first_failure_ms);
  add_number(h::last_failure_ms, ctx.last_failure_ms);
  if (ctx.value_omitted) add(h::value_omitted, "true");
  add_number(h::value_size, ctx.value_size);
  if (ctx.key_omitted) add(h::key_omitted, "true");
  if (ctx.headers_omitted) add(h::headers_omitted, "true");
  if (ctx.degraded_because) add(h::degraded_because, *ctx.degraded_because);
}

dead_letter_context decode_dead_letter_headers(const header_lookup& last) {
  namespace h = dlq_header;
  dead_letter_context ctx;
  ctx.source_topic = text_of(last(h::source_topic));
  if (auto p = parse_number<std::int32_t>(last(h::source_partition)))
    ctx.source_partition = partition_id{*p};
  if (auto o = parse_number<std::int64_t>(last(h::source_offset)))
    ctx.source_offset = kactor::offset{*o};
  ctx.source_timestamp_ms = parse_number<std::int64_t>(last(h::source_timestamp));
  ctx.agent = text_of(last(h::agent));
  ctx.error_class = parse_class(last(h::error_class));
  ctx.error_message = text_of(last(h::error_message));
  ctx.error_message_size = parse_number<std::size_t>(last(h::error_message_size));
  ctx.attempts = parse_number<std::size_t>(last(h::attempts));
  ctx.first_failure_ms = parse_number<std::int64_t>(last(h::first_failure_ms));
  ctx.last_failure_ms = parse_number<std::int64_t>(last(h::last_failure_ms));
  ctx.value_omitted = last(h::value_omitted) == std::string_view("true");
  ctx.value_size = parse_number<std::size_t>(last(h::value_size));
  ctx.key_omitted = last(h::key_omitted) == std::string_view("true");
  ctx.headers_omitted = last(h::headers_omitted) == std::string_view("true");
  ctx.degraded_because = text_of(last(h::degraded_because));
  return ctx;
}

dead_letter_context decode_dead_letter_headers(const event& dead_letter) {
  return decode_dead_letter_headers(
      [&dead_letter](std::string_view name) { return dead_letter.header(name); });
}

}  // namespace kactor
