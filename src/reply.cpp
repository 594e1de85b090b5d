#include <kactor/reply.hpp>

#include <charconv>

#include <kactor/context.hpp>
#include <kactor/error.hpp>

namespace kactor {

namespace {

[[noreturn]] void unanswerable(const event& request, const std::string& why) {
  throw irrecoverable_error("request " + request.describe() + " cannot be answered: " + why);
}

}  // namespace

reply_route route_reply(const event& request) {
  namespace h = reply_header;
  reply_route r;
  if (auto to = request.header(h::reply_to)) {
    r.topic = std::string(*to);
    if (auto p = request.header(h::reply_partition)) {
      std::int32_t n = -1;
      const auto [end, ec] = std::from_chars(p->data(), p->data() + p->size(), n);
      if (ec != std::errc() || end != p->data() + p->size() || n < 0)
        unanswerable(request, std::string(h::reply_partition) + " is '" + std::string(*p) +
                                  "', not a partition number");
      r.partition = partition_id{n};
    }
    auto id = request.header(h::correlation_id);
    if (!id)
      unanswerable(request, "it has " + std::string(h::reply_to) + " but no " +
                                std::string(h::correlation_id));
    r.correlation = {std::string(h::correlation_id), std::string(*id)};
    return r;
  }
  if (auto to = request.header(h::spring_reply_topic)) {
    r.topic = std::string(*to);
    if (auto p = request.header(h::spring_reply_partition)) {
      if (p->size() != 4)
        unanswerable(request, std::string(h::spring_reply_partition) + " has " +
                                  std::to_string(p->size()) +
                                  " byte(s), not a 4-byte big-endian partition");
      std::uint32_t n = 0;
      for (unsigned char c : *p) n = (n << 8) | c;
      r.partition = partition_id{static_cast<std::int32_t>(n)};
    }
    auto id = request.header(h::spring_correlation_id);
    if (!id)
      unanswerable(request, "it has " + std::string(h::spring_reply_topic) + " but no " +
                                std::string(h::spring_correlation_id));
    r.correlation = {std::string(h::spring_correlation_id), std::string(*id)};
    return r;
  }
  unanswerable(request, "it names no reply topic (no " + std::string(h::reply_to) + " or " +
                            std::string(h::spring_reply_topic) + " header)");
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
