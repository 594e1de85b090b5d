// A member process of `kactor bench rebalance`: one kactor runtime whose
// agent notes the time of every record it handles, and a report file the
// coordinator reads, one line per event:
//
//   r <partition> <mono_ns>                       a record was handled
//   s <mono_ns> <revocations> <last_revoke_us> <held>   assignment changed
//
// where <held> is "p:revocations,p:revocations,..." or "-" for none. The
// record times are taken in the handler; the lines are written every 5 ms.
// With --emit-to the handler also emits each record there, so revocation
// waits for the acknowledgements of what the revoked partitions emitted.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "src/cli/rebalance_bench.hpp"

namespace kactor::detail {

namespace {

struct member_options {
  std::string brokers, topic, group, instance_id, report, emit_to;
  std::string assignor = "cooperative-sticky";
  int session_timeout_ms = 6000;
  int commit_interval_ms = 0;
  std::vector<std::string> consumer;
};

/// The status line for `stats` without its time, or "" when the agent has
/// no stats yet.
std::string status_of(const runtime_stats& stats) {
  if (stats.agents.empty()) return {};
  const auto& a = stats.agents.front();
  std::uint64_t revocations = 0;
  std::string held;
  for (const auto& p : a.partitions) {
    revocations += p.revocations;
    if (p.assigned)
      held += (held.empty() ? "" : ",") + std::to_string(p.tp.partition.value()) + ":" +
              std::to_string(p.revocations);
  }
  return std::to_string(revocations) + " " + std::to_string(a.last_revoke.count()) + " " +
         (held.empty() ? "-" : held);
}

assignor_kind assignor_named(const std::string& name) {
  for (auto a :
       {assignor_kind::cooperative_sticky, assignor_kind::range, assignor_kind::roundrobin})
    if (name == to_string(a)) return a;
  throw std::invalid_argument("--assignor: invalid value '" + name +
                              "'; allowed: cooperative-sticky, range, roundrobin");
}

int run_member(const member_options& o) {
  const int fd = ::open(o.report.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    std::perror(o.report.c_str());
    return 1;
  }
  runtime_config cfg;
  cfg.brokers = o.brokers;
  cfg.log.level = log_level::warn;
  if (o.commit_interval_ms > 0)
    cfg.commit_interval = std::chrono::milliseconds(o.commit_interval_ms);
  cfg.consumer["session.timeout.ms"] = std::to_string(o.session_timeout_ms);
  cfg.consumer["heartbeat.interval.ms"] = std::to_string(std::max(100, o.session_timeout_ms / 12));
  for (const auto& kv : o.consumer) {
    const auto eq = kv.find('=');
    cfg.consumer[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  runtime rt(cfg);

  std::mutex mx;
  std::vector<std::pair<int, mono_ns>> handled;
  auto agent = rt.agent("bench-member");
  if (!o.instance_id.empty()) agent.static_member(o.instance_id);
  if (!o.emit_to.empty()) agent.produces(o.emit_to);
  agent.consume(o.topic)
      .group(o.group)
      .assignor(assignor_named(o.assignor))
      .on([&](const event& e, context& ctx) {
        const auto at = mono_now();
        if (!o.emit_to.empty()) ctx.emit(o.emit_to, e.key(), e.value());
        std::lock_guard lock(mx);
        handled.emplace_back(e.partition().value(), at);
      });
  rt.stop_on_signals();
  rt.start();

  std::string last_status, out;
  std::vector<std::pair<int, mono_ns>> batch;
  auto report = [&](bool final) {
    {
      std::lock_guard lock(mx);
      batch.swap(handled);
    }
    out.clear();
    for (const auto& [p, at] : batch)
      out += "r " + std::to_string(p) + " " + std::to_string(at) + "\n";
    batch.clear();
    auto status = status_of(rt.stats());
    if (final && !status.empty()) status = status.substr(0, status.rfind(' ')) + " -";
    if (!status.empty() && status != last_status) {
      out += "s " + std::to_string(mono_now()) + " " + status + "\n";
      last_status = status;
    }
    for (std::size_t done = 0; done < out.size();) {
      const auto n = ::write(fd, out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
  };
  while (!rt.wait_for_stop_request(std::chrono::milliseconds(5))) report(false);
  rt.stop();
  report(true);
  ::close(fd);
  return 0;
}

}  // namespace

std::optional<int> run_rebalance_member_if_invoked(int argc, char** argv) {
  if (argc < 3 || std::string(argv[1]) != "bench" || std::string(argv[2]) != "rebalance-member")
    return std::nullopt;
  CLI::App app{"a member process of `kactor bench rebalance` (it starts them itself)"};
  member_options o;
  app.add_option("--brokers", o.brokers)->required();
  app.add_option("--topic", o.topic)->required();
  app.add_option("--group", o.group)->required();
  app.add_option("--report", o.report, "the file the coordinator reads")->required();
  app.add_option("--assignor", o.assignor);
  app.add_option("--instance-id", o.instance_id, "group.instance.id: static membership");
  app.add_option("--session-timeout-ms", o.session_timeout_ms);
  app.add_option("--commit-interval-ms", o.commit_interval_ms);
  app.add_option("--consumer", o.consumer, "KEY=VALUE librdkafka consumer property");
  app.add_option("--emit-to", o.emit_to, "emit each record to this topic");
  try {
    app.parse(argc - 2, argv + 2);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run_member(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kactor bench rebalance-member: %s\n", e.what());
    return 1;
  }
}

}  // namespace kactor::detail
