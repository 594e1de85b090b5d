#pragma once
// `kactor lag`: a consumer group's committed offsets against the partitions'
// ends, once or followed until the lag is 0 (`--watch`).

#include <string>

namespace kactor::detail {

/// Prints the group's lag per partition and its total (a table, or JSON)
/// on stdout; returns 0. Throws `kafka_exception` naming the broker or
/// group when either is unknown or unreachable within `timeout_ms`.
int run_lag(const std::string& brokers, const std::string& group, bool json, int timeout_ms);

/// Follows the group until its total lag is 0 (a replay's reprocessing, a
/// restarted fleet catching up): first "following group G, N record(s)
/// behind", then progress on stderr (records caught up of those N, rate,
/// time left; redrawn on a terminal, a line every `every_ms` otherwise),
/// then prints the lag as `run_lag` does. Returns 0 at lag 0, 1 if `for_s`
/// (> 0) seconds passed first.
int watch_lag(const std::string& brokers, const std::string& group, bool json, int timeout_ms,
              int every_ms, int for_s);

}  // namespace kactor::detail
