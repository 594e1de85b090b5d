#include "src/ops/metrics.hpp"

#include <cstdint>
#include <functional>
#include <iterator>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace kactor::detail {

namespace {

/// A label value with `\`, `"` and newlines escaped as the format says.
std::string escaped(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

/// One metric family: its HELP and TYPE lines, then a sample per item.
template <class Item>
void family(std::ostream& out, const char* name, const char* type, const char* help,
            const std::vector<Item>& items, const std::function<bool(const Item&)>& has,
            const std::function<std::string(const Item&)>& labels,
            const std::function<double(const Item&)>& value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  for (const auto& i : items)
    if (!has || has(i)) out << name << '{' << labels(i) << "} " << value(i) << '\n';
}

/// A histogram family over agents: cumulative `_bucket` samples by `le`,
/// then `_sum` and `_count`.
void histogram_family(std::ostream& out, const char* name, const char* help,
                      const std::vector<const agent_stats*>& agents,
                      const std::function<std::string(const agent_stats*)>& labels,
                      latency_histogram agent_stats::*member) {
  // latency_histogram::bounds as Prometheus writes them.
  static constexpr const char* le[] = {"1e-05", "5e-05", "0.0001", "0.0005", "0.001", "0.005",
                                       "0.01",  "0.05",  "0.1",    "0.5",    "1",     "5"};
  static_assert(std::size(le) == latency_histogram::bounds.size());
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " histogram\n";
  for (const auto* a : agents) {
    const auto& h = a->*member;
    const auto l = labels(a);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
      cumulative += h.counts[i];
      out << name << "_bucket{" << l << ",le=\"" << (i < std::size(le) ? le[i] : "+Inf") << "\"} "
          << cumulative << '\n';
    }
    out << name << "_sum{" << l << "} " << h.sum_seconds << '\n';
    out << name << "_count{" << l << "} " << cumulative << '\n';
  }
}

struct partition_item {
  const agent_stats* agent;
  const partition_stats* p;
};

std::string partition_labels(const partition_item& i) {
  return "agent=\"" + escaped(i.agent->name) + "\",topic=\"" + escaped(i.p->tp.topic) +
         "\",partition=\"" + std::to_string(i.p->tp.partition.value()) + "\"";
}

std::string agent_labels(const agent_stats* a) {
  return "agent=\"" + escaped(a->name) + "\"";
}

}  // namespace

std::string prometheus_text(const runtime_stats& stats) {
  std::ostringstream out;
  out.precision(17);
  std::vector<partition_item> parts;
  std::vector<const agent_stats*> agents;
  for (const auto& a : stats.agents) {
    agents.push_back(&a);
    for (const auto& p : a.partitions) parts.push_back({&a, &p});
  }
  using P = partition_item;
  auto per_partition = [&](const char* name, const char* type, const char* help,
                           std::function<double(const P&)> value,
                           std::function<bool(const P&)> has = {}) {
    family<P>(out, name, type, help, parts, has, partition_labels, value);
  };
  per_partition("kactor_records_processed_total", "counter",
                "Records whose handler returned normally.",
                [](const P& i) { return static_cast<double>(i.p->processed); });
  per_partition("kactor_records_failed_total", "counter",
                "Records set aside for the dead-letter topic.",
                [](const P& i) { return static_cast<double>(i.p->failed); });
  per_partition("kactor_records_retried_total", "counter",
                "Handler runs after a retriable failure.",
                [](const P& i) { return static_cast<double>(i.p->retries); });
  per_partition("kactor_records_dead_lettered_total", "counter",
                "Dead letters the broker acknowledged.",
                [](const P& i) { return static_cast<double>(i.p->dead_lettered); });
  per_partition("kactor_records_duplicates_dropped_total", "counter",
                "Records delivered again by librdkafka and skipped.",
                [](const P& i) { return static_cast<double>(i.p->duplicates_dropped); });
  per_partition("kactor_replies_late_total", "counter",
                "Replies that came after their request's timeout, dropped.",
                [](const P& i) { return static_cast<double>(i.p->late_replies); });
  per_partition("kactor_partition_restarts_total", "counter",
                "Restarts of the partition's actor after it died.",
                [](const P& i) { return static_cast<double>(i.p->restarts); });
  per_partition("kactor_partition_pauses_total", "counter",
                "Times the partition was paused because its actor was full and behind.",
                [](const P& i) { return static_cast<double>(i.p->pauses); });
  per_partition("kactor_partition_assigned", "gauge", "1 while this process holds the partition.",
                [](const P& i) { return i.p->assigned ? 1.0 : 0.0; });
  per_partition("kactor_partition_in_flight", "gauge",
                "Records the partition's actor holds (at most max_poll_records).",
                [](const P& i) { return static_cast<double>(i.p->in_flight); });
  per_partition("kactor_partition_paused", "gauge", "1 while the partition is paused.",
                [](const P& i) { return i.p->paused ? 1.0 : 0.0; });
  per_partition("kactor_partition_escalated", "gauge",
                "1 once the supervisor gave up on the partition (paused until reassigned).",
                [](const P& i) { return i.p->escalated ? 1.0 : 0.0; });
  per_partition("kactor_partition_restoring", "gauge",
                "1 while the partition's state stores are being restored.",
                [](const P& i) { return i.p->restoring ? 1.0 : 0.0; });
  per_partition("kactor_partition_restored_records", "gauge",
                "Changelog records read by the current or last restore.",
                [](const P& i) { return static_cast<double>(i.p->restored); });
  per_partition("kactor_partition_restore_records", "gauge",
                "Changelog records the current or last restore reads in all.",
                [](const P& i) { return static_cast<double>(i.p->to_restore); });
  per_partition("kactor_partition_restored_records_total", "counter",
                "Changelog records restored into the partition's stores by this process; "
                "rate() of it is the restore rate.",
                [](const P& i) { return static_cast<double>(i.p->restored_total); });
  per_partition("kactor_partition_restore_duration_seconds", "gauge",
                "How long the current restore has run, or the last one took.", [](const P& i) {
                  return std::chrono::duration<double>(i.p->restore_time).count();
                });
  per_partition(
      "kactor_partition_stored_offset", "gauge",
      "The next offset to commit: every record below it is finished.",
      [](const P& i) { return static_cast<double>(i.p->stored_offset); },
      [](const P& i) { return i.p->stored_offset >= 0; });
  per_partition(
      "kactor_partition_committed_offset", "gauge",
      "exactly_once: the offset the last committed transaction holds.",
      [](const P& i) { return static_cast<double>(i.p->committed_offset); },
      [](const P& i) { return i.p->committed_offset >= 0; });
  per_partition(
      "kactor_partition_end_offset", "gauge",
      "The partition's high watermark as the consumer last saw it.",
      [](const P& i) { return static_cast<double>(i.p->end_offset); },
      [](const P& i) { return i.p->end_offset >= 0; });
  per_partition(
      "kactor_partition_lag", "gauge", "Records between the committed position and the end.",
      [](const P& i) { return static_cast<double>(i.p->lag()); },
      [](const P& i) { return i.p->lag() >= 0; });

  using A = const agent_stats*;
  auto per_agent = [&](const char* name, const char* type, const char* help,
                       std::function<double(const A&)> value) {
    family<A>(out, name, type, help, agents, {}, agent_labels, value);
  };
  auto seconds = [](std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1e6; };
  per_agent("kactor_agent_healthy", "gauge",
            "1 while no partition escalated and the producer works.",
            [](const A& a) { return a->healthy ? 1.0 : 0.0; });
  per_agent("kactor_agent_ready", "gauge",
            "1 when healthy, joined, every topic present and nothing restoring.",
            [](const A& a) { return a->ready ? 1.0 : 0.0; });
  per_agent("kactor_agent_missing_topics", "gauge", "Consumed topics that do not exist (yet).",
            [](const A& a) { return static_cast<double>(a->missing_topics.size()); });
  per_agent("kactor_rebalances_total", "counter", "Rebalances the agent's consumer took part in.",
            [](const A& a) { return static_cast<double>(a->rebalances); });
  per_agent("kactor_revoke_last_seconds", "gauge",
            "How long the last revocation held the rebalance callback.",
            [&](const A& a) { return seconds(a->last_revoke); });
  per_agent("kactor_revoke_longest_seconds", "gauge",
            "How long the longest revocation held the rebalance callback.",
            [&](const A& a) { return seconds(a->longest_revoke); });
  per_agent("kactor_transactions_committed_total", "counter",
            "exactly_once: transactions committed.",
            [](const A& a) { return static_cast<double>(a->transactions_committed); });
  per_agent("kactor_transactions_aborted_total", "counter", "exactly_once: transactions aborted.",
            [](const A& a) { return static_cast<double>(a->transactions_aborted); });
  per_agent("kactor_producer_resets_total", "counter",
            "exactly_once: times the transactional producer was re-created.",
            [](const A& a) { return static_cast<double>(a->producer_resets); });
  per_agent("kactor_transaction_barrier_wait_seconds_total", "counter",
            "exactly_once: time waiting for partition actors at commit barriers.",
            [&](const A& a) { return seconds(a->barrier_wait); });
  per_agent("kactor_transaction_commit_seconds_total", "counter",
            "exactly_once: time spent committing transactions.",
            [&](const A& a) { return seconds(a->commit_time); });
  histogram_family(out, "kactor_transaction_commit_duration_seconds",
                   "exactly_once: how long each transaction commit took.", agents, agent_labels,
                   &agent_stats::commit_latency);
  histogram_family(out, "kactor_handler_duration_seconds",
                   "How long each handler call took (one per attempt).", agents, agent_labels,
                   &agent_stats::handler_latency);
  per_agent("kactor_records_emitted_total", "counter",
            "Records handed to the producer this agent emits through.",
            [](const A& a) { return static_cast<double>(a->emitted); });
  per_agent("kactor_delivery_failures_total", "counter",
            "Deliveries the producer this agent emits through failed.",
            [](const A& a) { return static_cast<double>(a->delivery_failures); });
  return out.str();
}

probe_result readiness(const runtime_stats& stats) {
  nlohmann::json body{{"ready", true}, {"agents", nlohmann::json::array()}};
  for (const auto& a : stats.agents) {
    if (a.ready) continue;
    std::vector<std::string> why;
    if (!a.healthy) why.push_back("unhealthy: " + a.unhealthy_cause);
    for (const auto& t : a.missing_topics) why.push_back("topic " + t + " does not exist");
    for (const auto& p : a.partitions)
      if (p.assigned && p.restoring)
        why.push_back("restoring " + p.tp.topic + "/" + std::to_string(p.tp.partition.value()));
    if (why.empty()) why.emplace_back("has not joined its group yet");
    body["ready"] = false;
    body["agents"].push_back({{"agent", a.name}, {"why", why}});
  }
  return {body["ready"].get<bool>(), body.dump()};
}

}  // namespace kactor::detail
