#pragma once
// `kactor bench rebalance`: how a change of membership (a member joins,
// leaves, crashes or restarts) stalls a consumer group's partitions, with
// members as separate processes on a live, steadily fed topic.
//
// The coordinator (run_rebalance_bench) creates a fresh topic per
// repetition, feeds it at a steady rate, starts the members as child
// processes of the same executable (`<exe> bench rebalance-member ...`),
// reads what each reports (every record handled, every assignment change)
// from a file per member, makes the change and measures from the timeline
// (src/cli/rebalance_timeline.hpp). benchmarks/rebalance_bench runs the same
// code under Google Benchmark.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <kactor/config.hpp>
#include <nlohmann/json.hpp>

#include "src/cli/rebalance_timeline.hpp"

namespace kactor::detail {

enum class rebalance_scenario {
  /// New members start: members N:M with M > N.
  join,
  /// Members stop cleanly (SIGTERM: they leave the group; a static member
  /// does not, so the group waits out its session timeout): M < N.
  leave,
  /// Members are killed (SIGKILL): the group notices after the session
  /// timeout: M < N.
  crash,
  /// The last member is killed and started again at once: with static
  /// membership it rejoins as itself within the session timeout: M == N.
  restart,
};

const char* to_string(rebalance_scenario s);

/// A bad combination of `kactor bench rebalance` flags; its message names
/// the flags and what they allow.
struct bench_usage_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct rebalance_options {
  std::string brokers;
  int partitions = 8;
  /// Records per second over the whole topic.
  std::int64_t rate = 2000;
  rebalance_scenario scenario = rebalance_scenario::join;
  /// Members before and after the change.
  int members_before = 1;
  int members_after = 2;
  assignor_kind assignor = assignor_kind::cooperative_sticky;
  /// Static membership (`group.instance.id` per member slot).
  bool static_members = false;
  int repetitions = 5;
  /// How long the group runs settled before the change: the steady window.
  std::chrono::milliseconds steady{1000};
  /// The members' `session.timeout.ms` (heartbeats at a twelfth of it).
  std::chrono::milliseconds session_timeout{6000};
  /// kactor's periodic commit interval in the members.
  std::chrono::milliseconds commit_interval = runtime_config{}.commit_interval;
  /// The members emit each record to a second topic (`<topic>-out`, same
  /// partition count): their revocations then wait for those records'
  /// acknowledgements, as an agent that produces does.
  bool produce = false;
  /// Extra librdkafka consumer properties for the members.
  std::map<std::string, std::string> consumer;
  /// Bound on each wait (the group settling, a member stopping).
  std::chrono::milliseconds timeout{60000};
  /// Where the members' logs and reports go; a fresh directory under /tmp
  /// when empty. Removed after a successful run, kept when one fails.
  std::string work_dir;
  /// The command that starts a member: this executable with
  /// `bench rebalance-member` when empty.
  std::vector<std::string> member_command;
};

/// Parses "N:M" (members before and after); throws bench_usage_error.
std::pair<int, int> parse_members(const std::string& spec);

/// The members spec a scenario uses when none is given: join 1:2, leave and
/// crash 2:1, restart 2:2.
std::pair<int, int> default_members(rebalance_scenario s);

/// Throws bench_usage_error when the options do not fit together (members
/// against the scenario and partitions, positive counts and times).
void validate(const rebalance_options& o);

/// One repetition.
struct rebalance_run {
  rebalance_timeline timeline;
  rebalance_measures measures;
  /// CPU the members used in the steady window (ms): what the members'
  /// settings cost at the feed rate.
  double steady_cpu_ms = 0;
};

struct rebalance_report {
  rebalance_options options;
  std::vector<rebalance_run> runs;
};

/// Runs `o.repetitions` repetitions; `progress` gets a line at each step
/// (the CLI prints them on stderr). Throws `kafka_exception` naming the
/// brokers when they do not answer, `std::runtime_error` naming the member
/// and its log when a member fails or the group does not settle in time.
rebalance_report run_rebalance_bench(const rebalance_options& o,
                                     const std::function<void(const std::string&)>& progress);

/// The `q` quantile (0..1) of `v`, interpolating linearly between the closest
/// ranks (so q = 0.5 is the median Google Benchmark reports); NaN if empty.
double quantile(std::vector<double> v, double q);

/// The run whose settle time is the median (the one `--svg` draws).
const rebalance_run& median_run(const rebalance_report& r);

/// The report as JSON: options, p50/p99/max of each measure over the
/// repetitions (moved and unmoved partitions pooled, one sample each), and
/// every repetition's per-partition figures.
nlohmann::json to_json(const rebalance_report& r);

/// The report as a table for people.
std::string to_text(const rebalance_report& r);

/// Runs a member when `argv` is `<exe> bench rebalance-member ...` and
/// returns its exit status; nullopt for any other command line. Every
/// executable that can be a member command calls it first in main.
std::optional<int> run_rebalance_member_if_invoked(int argc, char** argv);

}  // namespace kactor::detail
