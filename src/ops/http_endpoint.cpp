#include "src/ops/http_endpoint.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <kactor/error.hpp>
#include <kactor/log.hpp>

#include "src/config/listen.hpp"
#include "src/ops/metrics.hpp"

namespace kactor::detail {

http_endpoint::http_endpoint(const std::string& listen, std::function<runtime_stats()> stats)
    : server_(std::make_unique<httplib::Server>()) {
  const auto at = parse_listen(listen);
  if (!at)
    throw config_error("metrics.listen", "invalid value '" + listen +
                                             "'; allowed: PORT or HOST:PORT, the port 0..65535");
  // Not SO_REUSEPORT (cpp-httplib's default): a second process must not
  // share the port and answer for this one.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->Get("/metrics", [stats](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus_text(stats()), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"live":true})", "application/json");
  });
  server_->Get("/readyz", [stats](const httplib::Request&, httplib::Response& res) {
    const auto r = readiness(stats());
    res.status = r.ok ? 200 : 503;
    res.set_content(r.body, "application/json");
  });
  if (at->port == 0) {
    port_ = server_->bind_to_any_port(at->host);
  } else if (server_->bind_to_port(at->host, at->port)) {
    port_ = at->port;
  } else {
    port_ = -1;
  }
  if (port_ <= 0)
    throw config_error("metrics.listen", "cannot listen on " + at->host + ":" +
                                             std::to_string(at->port) +
                                             " (in use, or not an address of this host)");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  log(log_level::info, "metrics and health probes on http://{}:{}/metrics, /healthz, /readyz",
      at->host, port_);
}

http_endpoint::~http_endpoint() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kactor::detail
