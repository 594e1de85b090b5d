#include <kactor/reply.hpp>

#include <charconv>
#include <optional>
#include <string>

#include <kactor/context.hpp>
#include <kactor/error.hpp>

namespace kactor {

namespace {

[[noreturn]] void unanswerable(const event& request, const std::string& why) {
  throw irrecoverable_error("request " + request.describe() + " cannot be answered: " + why);
}

/// A way of naming the route: kactor's headers or Spring's.
struct route_headers {
  std::string_view reply_to, partition, correlation_id;
  /// Reads a partition header; empty when it is not one (`why` says how).
  std::optional<std::int32_t> (*read_partition)(std::string_view value, std::string& why);
};

std::optional<std::int32_t> decimal(std::string_view p, std::string& why) {
  std::int32_t n = -1;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  if (ec == std::errc() && end == p.data() + p.size() && n >= 0) return n;
  why = "is '" + std::string(p) + "', not a partition number";
  return std::nullopt;
}

std::optional<std::int32_t> big_endian(std::string_view p, std::string& why) {
  if (p.size() != 4) {
    why = "has " + std::to_string(p.size()) + " byte(s), not a 4-byte big-endian partition";
    return std::nullopt;
  }
  std::uint32_t n = 0;
  for (unsigned char c : p) n = (n << 8) | c;
  return static_cast<std::int32_t>(n);
}

/// kactor's headers first, then Spring Kafka's ReplyingKafkaTemplate's.
constexpr route_headers schemes[] = {
    {reply_header::reply_to, reply_header::reply_partition, reply_header::correlation_id, &decimal},
    {reply_header::spring_reply_topic, reply_header::spring_reply_partition,
     reply_header::spring_correlation_id, &big_endian},
};

}  // namespace

reply_route route_reply(const event& request) {
  for (const auto& h : schemes) {
    const auto to = request.header(h.reply_to);
    if (!to) continue;
    reply_route r;
    r.topic = std::string(*to);
    if (const auto p = request.header(h.partition)) {
      std::string why;
      const auto n = h.read_partition(*p, why);
      if (!n) unanswerable(request, std::string(h.partition) + " " + why);
      r.partition = partition_id{*n};
    }
    const auto id = request.header(h.correlation_id);
    if (!id)
      unanswerable(request, "it has " + std::string(h.reply_to) + " but no " +
                                std::string(h.correlation_id));
    r.correlation = {std::string(h.correlation_id), std::string(*id)};
    return r;
  }
  unanswerable(request, "it names no reply topic (no " + std::string(reply_header::reply_to) +
                            " or " + std::string(reply_header::spring_reply_topic) + " header)");
}

void context::reply(const event& request, std::string_view value, const headers& hdrs) {
  auto route = route_reply(request);
  headers out;
  out.reserve(hdrs.size() + 1);
  out.push_back(std::move(route.correlation));
  out.insert(out.end(), hdrs.begin(), hdrs.end());
  emit(route.topic, request.key(), value, out, route.partition);
}

}  // namespace kactor
