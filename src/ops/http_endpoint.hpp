#pragma once
// The operator's HTTP endpoint (`metrics.listen`): /metrics, /healthz and
// /readyz on a thread of its own, over cpp-httplib.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <kactor/runtime.hpp>

namespace httplib {
class Server;
}

namespace kactor::detail {

/// Serves, until destroyed:
/// - `/metrics`: `prometheus_text(stats())`, text/plain; version=0.0.4;
/// - `/healthz`: 200 while the process serves (liveness);
/// - `/readyz`: 200 when `readiness(stats())` passes, else 503 with why (JSON).
/// `stats` is called on the endpoint's threads, once per request.
class http_endpoint {
 public:
  /// Binds `listen` ("PORT" or "HOST:PORT"). Throws `config_error` naming
  /// `metrics.listen` when it is malformed or cannot be bound.
  http_endpoint(const std::string& listen, std::function<runtime_stats()> stats);
  /// Stops serving and joins the thread.
  ~http_endpoint();
  http_endpoint(const http_endpoint&) = delete;
  http_endpoint& operator=(const http_endpoint&) = delete;

  /// The port bound (the one chosen when `listen` asked for port 0).
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace kactor::detail
