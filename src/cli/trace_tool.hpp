#pragma once
// `kactor trace`: one key's (or one header value's) records across several
// topics, merged in timestamp order — how a saga or a request-reply exchange
// is debugged by querying the log (the article's pattern 5).

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kactor::detail {

struct trace_options {
  std::string brokers;
  /// Comma-separated regular expressions (ECMAScript), each matched against
  /// whole topic names: "trip.*,flight.*". Internal topics (names starting
  /// with "__") are never traced.
  std::string topics;
  /// Only records with this key, or (exclusive) only records carrying a
  /// header `header->first` with the value `header->second`.
  std::optional<std::string> key;
  std::optional<std::pair<std::string, std::string>> header;
  /// Only records with a timestamp at or after this (ms since the epoch);
  /// each partition is read from the first such offset (offsetsForTimes).
  std::optional<std::int64_t> from_ms;
  bool json = false;
  /// Longest wait for the cluster, and for reading to make progress.
  std::chrono::milliseconds timeout{30000};
  /// How often a long scan reports its progress on the error stream (a line
  /// each time; on a `terminal`, one line redrawn at most every 200 ms).
  std::chrono::milliseconds progress_every{2000};
  bool terminal = false;
};

/// The names of `topics` that one of `patterns` (as in trace_options::topics)
/// matches whole, internal ones left out, sorted. Throws `std::invalid_argument`
/// naming a pattern that is not a regular expression (or an empty list).
std::vector<std::string> match_topics(const std::string& patterns,
                                      const std::vector<std::string>& topics);

/// Reads every partition of every matching topic (from `from_ms`, or the
/// start, to its end as of the call; read_committed, no group membership,
/// nothing committed), keeps the records that match `key` or `header`, and
/// prints them to `out` in timestamp order (then topic, partition, offset):
/// text lines `<time> <topic>/<partition>@<offset> key=".." [name="value" ...]
/// value=".."` (bytes escaped as `kactor dlq show` does, a value longer than
/// 1000 bytes cut and followed by `...(<size> bytes)`), or with `json` one JSON
/// object per line (topic, partition, offset, timestamp, time, key, value,
/// headers; bytes that are not UTF-8 as `<field>_base64`). A scan longer than
/// `progress_every` writes progress lines to `err`.
///
/// Returns the exit code: 0 (also when nothing matched: a count goes to
/// `err`); 2 for a bad pattern or none matching a topic (the message on
/// `err`); 1 when the brokers cannot be reached or reading fails (the
/// message naming the brokers or the topic on `err`).
int run_trace(const trace_options& o, std::ostream& out, std::ostream& err);

}  // namespace kactor::detail
