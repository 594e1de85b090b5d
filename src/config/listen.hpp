#pragma once
// `metrics.listen`: "PORT" or "HOST:PORT", read once for the config's check
// and for the endpoint that binds it.

#include <optional>
#include <string>

namespace kactor::detail {

struct listen_address {
  std::string host;  // 127.0.0.1 when only a port is given
  int port = 0;      // 0: any free port
};

/// `text` as a listen address, or nullopt when it is not "PORT" or
/// "HOST:PORT" with a port in 0..65535 and a non-empty host.
std::optional<listen_address> parse_listen(const std::string& text);

}  // namespace kactor::detail
