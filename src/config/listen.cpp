#include "src/config/listen.hpp"

#include <charconv>

namespace kactor::detail {

std::optional<listen_address> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  listen_address out;
  out.host = colon == std::string::npos ? "127.0.0.1" : text.substr(0, colon);
  const auto port = colon == std::string::npos ? std::string_view(text)
                                               : std::string_view(text).substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (out.host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() ||
      out.port < 0 || out.port > 65535)
    return std::nullopt;
  return out;
}

}  // namespace kactor::detail
