#pragma once
// What an operator's tools read: the Prometheus text exposition of a
// runtime's stats and the answers of its health probes. Built from
// `runtime_stats` alone (a snapshot any thread may take).

#include <string>

#include <kactor/runtime.hpp>

namespace kactor::detail {

/// `stats` in the Prometheus text exposition format 0.0.4: per partition
/// (labels agent, topic, partition) the records processed, failed, retried,
/// dead-lettered, duplicates dropped and late replies (counters), and the
/// in-flight count, paused, assigned, restoring, escalated, offsets, end
/// offset and lag (gauges); per agent (label agent) health, readiness,
/// rebalances and revocation times, transactions, producer resets and
/// deliveries. Names follow Prometheus conventions (`kactor_…_total`,
/// base units such as `_seconds`).
std::string prometheus_text(const runtime_stats& stats);

/// A probe's answer: whether it passes (HTTP 200, else 503) and a JSON body.
struct probe_result {
  bool ok = false;
  std::string body;
};

/// Readiness: every agent ready (healthy, its topics present, joined, no
/// partition restoring). The body says, per agent that is not, why not.
probe_result readiness(const runtime_stats& stats);

}  // namespace kactor::detail
