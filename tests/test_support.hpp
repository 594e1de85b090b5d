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
#include <tuple>
#include <vector>

#include "src/cli/child_process.hpp"
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

/// The CTest fixture's broker directory (scripts/kafka.sh), or "".
inline std::string kafka_dir() {
  const char* dir = std::getenv("KACTOR_KAFKA_DIR");
  return dir ? dir : "";
}

/// The first line of `file` in the CTest fixture's broker directory, or "".
inline std::string kafka_dir_line(const std::string& file) {
  if (kafka_dir().empty()) return {};
  std::ifstream in(kafka_dir() + "/" + file);
  std::string line;
  std::getline(in, line);
  return line;
}

/// The real broker started by the CTest fixture (scripts/kafka.sh), or "".
inline std::string kafka_bootstrap() {
  return kafka_dir_line("bootstrap.txt");
}

/// The same broker's SASL_PLAINTEXT listener (SCRAM-SHA-256, user
/// kactor-test, password kactor-test-secret: scripts/kafka.sh), or "".
inline std::string kafka_sasl_bootstrap() {
  return kafka_dir_line("sasl_bootstrap.txt");
}

/// The fixture broker's SSL listener (scripts/kafka.sh), or "".
inline std::string kafka_ssl_bootstrap() {
  return kafka_dir_line("ssl_bootstrap.txt");
}

/// The throwaway CA that signed the fixture broker's SSL certificate.
inline std::string kafka_ca_path() {
  return kafka_dir().empty() ? std::string() : kafka_dir() + "/tls/ca.pem";
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

/// An idempotent producer kept for many batches: a feed that makes a new
/// one per batch waits, now and then, up to a second for the new one's
/// producer id (librdkafka retries it every 500 ms), which reads downstream
/// as the consumer standing still. One thread at a time.
class producer {
 public:
  /// `props` are added librdkafka producer properties (`message.max.bytes`
  /// for large records, ...).
  explicit producer(const std::string& brokers, const detail::property_list& props = {});
  /// Produces `records` (to `partition`, or by key when -1) and waits for
  /// every acknowledgement; throws on failure.
  void produce_all(const std::string& topic,
                   const std::vector<std::pair<std::string, std::string>>& records,
                   std::int32_t partition = -1);

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  detail::handle_ptr rk_;
  std::atomic<long> failures_{0};
};

/// One batch through a producer of its own (see `producer`).
void produce_all(const std::string& brokers, const std::string& topic,
                 const std::vector<std::pair<std::string, std::string>>& records,
                 const detail::property_list& props = {}, std::int32_t partition = -1);

/// Every partition's end offset as a reader at `isolation` sees it: the last
/// stable offset at "read_committed", the high watermark at "read_uncommitted".
std::vector<std::int64_t> end_offsets(const std::string& brokers, const std::string& topic,
                                      const std::string& isolation);

/// How many times each record, by topic, partition and offset, was seen;
/// thread-safe (filled from handlers or consumer threads, read by the test).
class record_tally {
 public:
  void add(const std::string& topic, int partition, std::int64_t offset) {
    std::lock_guard lock(mx_);
    ++times_[{topic, partition, offset}];
  }
  /// Records seen at least once.
  std::size_t distinct() const {
    std::lock_guard lock(mx_);
    return times_.size();
  }
  /// Records seen more than once.
  std::size_t twice() const {
    std::lock_guard lock(mx_);
    std::size_t n = 0;
    for (const auto& [at, times] : times_) n += times > 1 ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mx_;
  std::map<std::tuple<std::string, int, std::int64_t>, int> times_;
};

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

/// Grows `topic` to `total` partitions with the Admin API; throws on failure.
void add_partitions(const std::string& brokers, const std::string& topic, int total);

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

/// Tests run kactor programs with the CLI tools' child process.
using detail::child_process;

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

/// A process's resident set in MB from /proc/<pid>/status (this process's
/// when `pid` is 0): `field` is "VmRSS" (now) or "VmHWM" (the peak since
/// start or `reset_peak_rss`). NaN if it cannot be read.
double rss_mb(const char* field, int pid = 0);

/// Returns freed heap to the system and makes the current RSS the peak
/// (Linux: "5" to /proc/self/clear_refs), so the next VmHWM is one run's.
void reset_peak_rss();

/// What headless Chromium drew of an SVG picture written by kactor (the
/// rebalance timeline), measured in the rendered page.
struct rendered_svg {
  /// `g.lane` elements, and those drawn at least 100 px wide and 5 px high.
  int lanes = 0;
  int lanes_drawn = 0;
  /// Per `g.member` (by its data-member): its `rect.rec` marks and the fill
  /// Chromium computed for them ("rgb(31, 119, 180)").
  std::map<std::string, int> marks;
  std::map<std::string, std::string> fills;
  /// Marks drawn with a size, inside a lane's box, and on top where they are
  /// drawn (`elementFromPoint` at their centre is a mark).
  int marks_drawn = 0;
  int marks_in_lane = 0;
  int marks_on_top = 0;
  /// The labels of the event lines, in order.
  std::vector<std::string> events;
};

/// Renders `svg_path` inline in an HTML page with headless Chromium
/// (`chromium` on PATH) and measures it; throws when Chromium fails.
rendered_svg render_svg(const std::string& svg_path);

/// The directory test binaries live in (for finding sibling executables).
std::string binary_dir();
}  // namespace kactor::test
