#pragma once
// Helpers shared by kactor's tests: waiting for conditions, a raw librdkafka
// producer and reader for feeding inputs and checking outputs against oracles.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "src/kafka/handles.hpp"

namespace kactor::test {

/// Polls `pred` until it holds or `timeout` passes; returns its last value.
/// For awaiting conditions in integration tests, never as a fixed sleep.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    // The conditions live in other processes and the broker (files, offsets):
    // polling them is the wait, not a guess at how long something takes.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// The real broker started by the CTest fixture (scripts/kafka.sh), or "".
inline std::string kafka_bootstrap() {
  const char* dir = std::getenv("KACTOR_KAFKA_DIR");
  if (!dir) return {};
  std::ifstream in(std::string(dir) + "/bootstrap.txt");
  std::string line;
  std::getline(in, line);
  return line;
}

/// A unique name per test run, so reruns against one broker do not collide.
inline std::string unique_name(const std::string& base) {
  return base + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

struct record {
  std::string key;
  std::string value;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::map<std::string, std::string> headers;
};

/// Produces `records` (to `partition`, or by key when -1) and waits for
/// every acknowledgement; throws on failure. `props` are added librdkafka
/// producer properties (`message.max.bytes` for large records, ...).
void produce_all(const std::string& brokers, const std::string& topic,
                 const std::vector<std::pair<std::string, std::string>>& records,
                 const detail::property_list& props = {}, std::int32_t partition = -1);

/// Every partition's end offset as a reader at `isolation` sees it: the last
/// stable offset at "read_committed", the high watermark at "read_uncommitted".
std::vector<std::int64_t> end_offsets(const std::string& brokers, const std::string& topic,
                                      const std::string& isolation);

/// Whether no transaction with records in `topic` is open: every partition's
/// last stable offset has reached its high watermark. A committed producer
/// transaction is not settled yet when its commit returns: the broker writes
/// the commit markers into the partitions after answering EndTxn.
bool transactions_settled(const std::string& brokers, const std::string& topic);

/// Reads a whole topic from the beginning (no group), until every partition's
/// end offset as of the call is reached. At read_committed (the default) it
/// first waits, within `timeout`, until the topic's transactions are settled
/// and then reads to the last stable offset, so a commit that has returned is
/// read whole; at "read_uncommitted", to the high watermark. Throws when the
/// timeout passes first.
std::vector<record> read_all(const std::string& brokers, const std::string& topic,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60),
                             const std::string& isolation = "read_committed");

/// Whether `group` has committed offsets for each of `partitions` of `topic`
/// and they are at the partitions' ends (a partition the group never
/// committed is not in its offsets at all, so a zero total lag alone does not
/// say the group is done). False while the broker does not answer.
bool group_caught_up(const std::string& brokers, const std::string& group, const std::string& topic,
                     const std::set<int>& partitions);

/// The same for all `partitions` partitions of `topic` (0 .. partitions-1).
bool group_caught_up(const std::string& brokers, const std::string& group, const std::string& topic,
                     int partitions);

/// Creates a topic with the Admin API, with topic `configs` if given.
void create_topic(const std::string& brokers, const std::string& topic, int partitions,
                  const std::map<std::string, std::string>& configs = {});

/// Deletes a topic with the Admin API; throws on failure.
void delete_topic(const std::string& brokers, const std::string& topic);

/// Denies every client of the test broker (all are User:ANONYMOUS there)
/// writing `topic`, with ACLs that still let them describe it
/// (scripts/kafka.sh runs an authorizer that allows what no ACL mentions);
/// returns once a write is refused.
void deny_writes(const std::string& brokers, const std::string& topic);

/// `records` inputs over `keys` keys: key "key-<k>", value "<k>:<seq>" with
/// each key's seq counting 0, 1, 2, ... in input order.
std::vector<std::pair<std::string, std::string>> sequenced(int records, int keys);

/// Asserts (gtest) that `output` holds every key's values of `input` exactly
/// once each and in input order: no gaps, no duplicates.
void expect_matches_oracle(const std::vector<std::pair<std::string, std::string>>& input,
                           const std::vector<record>& output);

}  // namespace kactor::test

namespace kactor::test {

/// A child process (fork + exec), killed with SIGKILL if still running when
/// destroyed. Its stdout and stderr go to `log_path`.
class child_process {
 public:
  /// `env` entries ("NAME=value") are added to the child's environment.
  child_process(const std::vector<std::string>& argv, const std::string& log_path,
                const std::vector<std::string>& env = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  int pid() const { return pid_; }
  void signal(int sig);
  /// Whether the process is stopped (SIGSTOP, state T in /proc).
  bool stopped() const;
  /// Waits for exit; returns the exit code, 128 + signal if killed, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  int pid_ = -1;
  int status_ = -1;
};

/// A transactional id as its transaction coordinator sees it.
struct transaction_view {
  /// "Ongoing", "PrepareCommit", "CompleteCommit", "Empty", ...
  std::string state;
  /// The partitions the open transaction has records in ("topic-N").
  std::vector<std::string> partitions;
  /// A transaction is open with records in it: aborting it undoes writes.
  bool open_with_records() const { return state == "Ongoing" && !partitions.empty(); }
};

/// Asks the test broker (KACTOR_KAFKA_SCRIPT, KACTOR_KAFKA_DIR) through Kafka's
/// TransactionsCommand; throws if the command fails.
transaction_view describe_transaction(const std::string& transactional_id);

/// Reads a JSON stats file written by examples/common/stats_file.hpp; empty on error.
std::string read_file(const std::string& path);

/// The directory test binaries live in (for finding sibling executables).
std::string binary_dir();

/// When each record was handled, per partition, in handling order; filled
/// from partition actors (thread-safe), read by rebalance tests and benchmarks.
class handled_log {
 public:
  explicit handled_log(int partitions) : at_(static_cast<std::size_t>(partitions)) {}
  void add(int partition) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mx_);
    at_.at(static_cast<std::size_t>(partition)).push_back(now);
  }
  std::vector<std::chrono::steady_clock::time_point> times(int partition) const {
    std::lock_guard lock(mx_);
    return at_.at(static_cast<std::size_t>(partition));
  }

 private:
  mutable std::mutex mx_;
  std::vector<std::vector<std::chrono::steady_clock::time_point>> at_;
};

/// Whether a group of two members has settled after the second joined:
/// `second` holds partitions, the two hold all `partitions` between them
/// without overlap, and the second has handled a record on each of its own.
/// The maps are partition -> stats of the partitions each member holds.
template <class Held>
bool two_members_settled(const Held& first, const Held& second, const handled_log& second_log,
                         int partitions) {
  if (second.empty() || static_cast<int>(first.size() + second.size()) != partitions) return false;
  for (const auto& entry : second)
    if (first.count(entry.first) || second_log.times(entry.first).empty()) return false;
  return true;
}

/// Produces `rate` records/s to `topic` from its own thread, round robin
/// over its `partitions` partitions in 1 ms ticks, values from `value(i)`,
/// until destroyed (then flushes): a steady live feed for rebalance tests
/// and benchmarks. The ticks pace the feed; nothing waits on them.
class steady_feeder {
 public:
  steady_feeder(const std::string& brokers, std::string topic, int partitions, std::int64_t rate,
                std::function<std::string(std::int64_t)> value);
  ~steady_feeder();
  steady_feeder(const steady_feeder&) = delete;
  steady_feeder& operator=(const steady_feeder&) = delete;

 private:
  void run();

  std::string topic_;
  int partitions_;
  detail::handle_ptr rk_;
  std::int64_t rate_;
  std::function<std::string(std::int64_t)> value_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kactor::test
