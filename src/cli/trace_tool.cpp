#include "src/cli/trace_tool.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <stdexcept>

#include <kactor/error.hpp>
#include <nlohmann/json.hpp>

#include "src/cli/progress.hpp"
#include "src/cli/record_reader.hpp"
#include "src/config/time.hpp"
#include "src/kafka/admin.hpp"

namespace kactor::detail {

namespace {

/// How much of a value a text line shows.
constexpr std::size_t shown_value_bytes = 1000;

bool matches(const trace_options& o, const topic_record& r) {
  if (o.key) return r.key && *r.key == *o.key;
  if (o.header)
    for (const auto& [name, value] : r.headers)
      if (name == o.header->first && value && *value == o.header->second) return true;
  return !o.header;
}

std::string text_line(const topic_record& r) {
  std::string line = (r.timestamp_ms >= 0 ? format_time(r.timestamp_ms) : std::string("-")) + " " +
                     where_in(r.topic, r.partition, r.offset) + " key=" + printable(r.key, true);
  for (const auto& [name, value] : r.headers)
    line += " " + printable(name, false) + "=" + printable(value, true);
  line += " value=" + printable_cut(r.value, shown_value_bytes);
  return line;
}

std::string json_line(const topic_record& r) {
  nlohmann::ordered_json out;
  out["topic"] = r.topic;
  out["partition"] = r.partition;
  out["offset"] = r.offset;
  out["timestamp"] = r.timestamp_ms;
  out["time"] = r.timestamp_ms >= 0 ? format_time(r.timestamp_ms) : std::string();
  put_record(out, r);
  return out.dump();
}

/// Per partition of `topic`, the offsets to read: from the first record at or
/// after `from_ms` (or the start) to the end.
offset_ranges ranges_of(rd_kafka_t* rk, const std::string& topic, int partitions,
                        std::optional<std::int64_t> from_ms, int timeout_ms) {
  offset_ranges ranges;
  auto times = make_tpl(partitions);
  for (std::int32_t p = 0; p < partitions; ++p) {
    const auto [lo, hi] = watermarks(rk, topic, p, timeout_ms);
    if (lo < hi) ranges[p] = {lo, hi};
    if (from_ms)
      rd_kafka_topic_partition_list_add(times.get(), topic.c_str(), p)->offset = *from_ms;
  }
  if (!from_ms || ranges.empty()) return ranges;
  if (auto err = rd_kafka_offsets_for_times(rk, times.get(), timeout_ms))
    throw kafka_exception(make_error(err, "offsets for times of " + topic));
  for (int i = 0; i < times->cnt; ++i) {
    const auto& t = times->elems[i];
    auto it = ranges.find(t.partition);
    if (it == ranges.end()) continue;
    if (t.err) throw kafka_exception(make_error(t.err, "offsets for times of " + topic));
    // -1: no record at or after the time.
    if (t.offset < 0 || t.offset >= it->second.second)
      ranges.erase(it);
    else
      it->second.first = std::max(it->second.first, t.offset);
  }
  return ranges;
}

}  // namespace

std::vector<std::string> match_topics(const std::string& patterns,
                                      const std::vector<std::string>& topics) {
  std::vector<std::regex> res;
  std::size_t start = 0;
  while (start <= patterns.size()) {
    auto end = patterns.find(',', start);
    if (end == std::string::npos) end = patterns.size();
    auto p = patterns.substr(start, end - start);
    p.erase(0, p.find_first_not_of(" \t"));
    p.erase(p.find_last_not_of(" \t") + 1);
    if (!p.empty()) {
      try {
        res.emplace_back(p, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw std::invalid_argument("bad topic pattern '" + p + "': " + e.what());
      }
    }
    start = end + 1;
  }
  if (res.empty()) throw std::invalid_argument("no topic pattern given");
  std::vector<std::string> out;
  for (const auto& t : topics) {
    if (t.rfind("__", 0) == 0) continue;
    if (std::any_of(res.begin(), res.end(),
                    [&t](const std::regex& r) { return std::regex_match(t, r); }))
      out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int run_trace(const trace_options& o, std::ostream& out, std::ostream& err) {
  const int tmo = static_cast<int>(o.timeout.count());
  auto rk = make_reader(o.brokers, "kactor-trace");
  std::map<std::string, int> counts;
  try {
    check_brokers(rk.get(), o.brokers, tmo);
    counts = partition_counts(rk.get(), tmo);
  } catch (const kafka_exception& e) {
    err << "kactor trace: " << e.what() << "\n";
    return 1;
  }
  std::vector<std::string> names;
  for (const auto& [name, n] : counts) names.push_back(name);
  std::vector<std::string> topics;
  try {
    topics = match_topics(o.topics, names);
  } catch (const std::invalid_argument& e) {
    err << "kactor trace: " << e.what() << "\n";
    return 2;
  }
  if (topics.empty()) {
    err << "kactor trace: no topic matches '" << o.topics << "' on " << o.brokers << "\n";
    return 2;
  }
  std::vector<topic_record> found;
  try {
    std::vector<std::pair<std::string, offset_ranges>> plan;
    std::int64_t total = 0;
    for (const auto& t : topics) {
      plan.emplace_back(t, ranges_of(rk.get(), t, counts.at(t), o.from_ms, tmo));
      for (const auto& [p, r] : plan.back().second) total += r.second - r.first;
    }
    progress_reporter progress(err, "kactor trace: scanned", total, o.terminal, o.progress_every);
    std::int64_t scanned = 0;
    for (const auto& [topic, ranges] : plan) {
      if (ranges.empty()) continue;
      read_ranges(rk.get(), topic, ranges, o.timeout, [&](const rd_kafka_message_t& m) {
        ++scanned;
        auto r = to_record(m);
        if (r.topic.empty()) r.topic = topic;
        if ((!o.from_ms || r.timestamp_ms >= *o.from_ms) && matches(o, r))
          found.push_back(std::move(r));
        progress.update(scanned, std::to_string(found.size()) + " matched");
        return true;
      });
    }
    progress.finish();
    rd_kafka_consumer_close(rk.get());
  } catch (const kafka_exception& e) {
    err << "kactor trace: " << e.what() << "\n";
    return 1;
  }
  std::stable_sort(found.begin(), found.end(), [](const topic_record& a, const topic_record& b) {
    return std::tie(a.timestamp_ms, a.topic, a.partition, a.offset) <
           std::tie(b.timestamp_ms, b.topic, b.partition, b.offset);
  });
  for (const auto& r : found) out << (o.json ? json_line(r) : text_line(r)) << "\n";
  out.flush();
  err << "kactor trace: " << found.size() << " record(s) from " << topics.size() << " topic(s)\n";
  return 0;
}

}  // namespace kactor::detail
