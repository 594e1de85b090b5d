// `kactor bench rebalance`'s report: JSON for programs, a table for people.

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "src/cli/rebalance_bench.hpp"

namespace kactor::detail {

namespace {

/// One measure over the repetitions: its samples and their summary.
struct measure_row {
  const char* key;
  const char* label;
  std::vector<double> samples;
};

std::vector<measure_row> rows(const rebalance_report& r) {
  std::vector<measure_row> out = {
      {"moved_first_record_ms", "moved partitions: change -> first record (ms)", {}},
      {"unmoved_longest_gap_ms", "unmoved partitions: longest gap (ms)", {}},
      {"steady_gap_ms", "steady-state gap, the floor (ms)", {}},
      {"settle_ms", "change -> settled (ms)", {}},
      {"unmoved_revoked", "unmoved partitions revoked", {}},
      {"revoke_callback_ms", "revoke callback of a member that stayed (ms)", {}},
      {"steady_cpu_ms", "members' CPU in the steady window (ms)", {}},
  };
  for (const auto& run : r.runs) {
    const auto& m = run.measures;
    for (const auto& p : m.moved) out[0].samples.push_back(p.first_record_ms);
    for (const auto& p : m.unmoved) out[1].samples.push_back(p.longest_gap_ms);
    out[2].samples.push_back(m.steady_gap_ms);
    out[3].samples.push_back(m.settle_ms);
    out[4].samples.push_back(m.partitions_revoked);
    out[5].samples.push_back(m.revoke_callback_ms);
    out[6].samples.push_back(run.steady_cpu_ms);
  }
  return out;
}

nlohmann::json number(double v) {
  return std::isnan(v) ? nlohmann::json() : nlohmann::json(std::round(v * 10) / 10);
}

}  // namespace

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

const rebalance_run& median_run(const rebalance_report& r) {
  std::vector<const rebalance_run*> by_settle;
  for (const auto& run : r.runs) by_settle.push_back(&run);
  std::sort(by_settle.begin(), by_settle.end(), [](const auto* a, const auto* b) {
    return a->measures.settle_ms < b->measures.settle_ms;
  });
  return *by_settle.at(by_settle.size() / 2);
}

nlohmann::json to_json(const rebalance_report& r) {
  const auto& o = r.options;
  nlohmann::json out{
      {"brokers", o.brokers},
      {"scenario", to_string(o.scenario)},
      {"members", {{"before", o.members_before}, {"after", o.members_after}}},
      {"assignor", to_string(o.assignor)},
      {"static", o.static_members},
      {"produce", o.produce},
      {"partitions", o.partitions},
      {"rate", o.rate},
      {"repetitions", o.repetitions},
      {"session_timeout_ms", o.session_timeout.count()},
      {"steady_ms", o.steady.count()},
  };
  auto& summary = out["summary"] = nlohmann::json::object();
  for (const auto& row : rows(r))
    summary[row.key] = {{"n", row.samples.size()},
                        {"p50", number(quantile(row.samples, 0.5))},
                        {"p99", number(quantile(row.samples, 0.99))},
                        {"max", number(quantile(row.samples, 1.0))}};
  auto& runs = out["runs"] = nlohmann::json::array();
  for (const auto& run : r.runs) {
    const auto& m = run.measures;
    nlohmann::json j{{"settle_ms", number(m.settle_ms)},
                     {"steady_gap_ms", number(m.steady_gap_ms)},
                     {"unmoved_revoked", m.partitions_revoked},
                     {"revoke_callback_ms", number(m.revoke_callback_ms)},
                     {"steady_cpu_ms", number(run.steady_cpu_ms)}};
    auto& moved = j["moved"] = nlohmann::json::array();
    for (const auto& p : m.moved)
      moved.push_back({{"partition", p.partition},
                       {"from", p.from},
                       {"to", p.to},
                       {"first_record_ms", number(p.first_record_ms)},
                       // Restoring state stores before the first record: null
                       // until kactor has state stores.
                       {"restore_ms", p.restore_ms ? number(*p.restore_ms) : nlohmann::json()}});
    auto& unmoved = j["unmoved"] = nlohmann::json::array();
    for (const auto& p : m.unmoved)
      unmoved.push_back({{"partition", p.partition},
                         {"member", p.member},
                         {"longest_gap_ms", number(p.longest_gap_ms)},
                         {"revoked", p.revoked}});
    runs.push_back(std::move(j));
  }
  return out;
}

std::string to_text(const rebalance_report& r) {
  const auto& o = r.options;
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "kactor bench rebalance: %s, members %d:%d, %s, %s membership%s, %d partitions "
                "at %lld records/s, %d repetition(s), brokers %s\n\n",
                to_string(o.scenario), o.members_before, o.members_after, to_string(o.assignor),
                o.static_members ? "static" : "dynamic",
                o.produce ? ", members emitting each record" : "", o.partitions,
                static_cast<long long>(o.rate), o.repetitions, o.brokers.c_str());
  std::string out = buf;
  std::snprintf(buf, sizeof(buf), "%-48s %5s %9s %9s %9s\n", "", "n", "p50", "p99", "max");
  out += buf;
  for (const auto& row : rows(r)) {
    std::snprintf(buf, sizeof(buf), "%-48s %5zu %9.1f %9.1f %9.1f\n", row.label, row.samples.size(),
                  quantile(row.samples, 0.5), quantile(row.samples, 0.99),
                  quantile(row.samples, 1.0));
    out += buf;
  }
  out +=
      "\nmoved and unmoved partitions: one sample per partition and repetition; the others: one "
      "per repetition.\n";
  return out;
}

}  // namespace kactor::detail
