#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <kactor/error.hpp>
#include <kactor/log.hpp>

namespace kactor {

/// How an agent's consumer group spreads partitions over its members.
enum class assignor_kind {
  /// KIP-429 incremental cooperative rebalancing: partitions that do not move
  /// keep processing during a rebalance. The default.
  cooperative_sticky,
  /// Eager (stop-the-world) range assignment.
  range,
  /// Eager round-robin assignment.
  roundrobin,
};

/// "cooperative-sticky", "range" or "roundrobin".
const char* to_string(assignor_kind a) noexcept;

/// What a crash may do to an agent's outputs.
enum class processing_guarantee {
  /// Offsets are committed after outputs are acknowledged: a crash can repeat
  /// outputs, never lose them.
  at_least_once,
  /// Outputs, dead letters and offsets commit in one Kafka transaction
  /// (KIP-447); consumers reading with isolation.level=read_committed see each
  /// output once. Needs a real broker: the embedded cluster refuses it.
  exactly_once,
};

/// "at_least_once" or "exactly_once".
const char* to_string(processing_guarantee g) noexcept;

/// How an agent's supervisor treats failures (see docs/supervision.md).
struct supervision_policy {
  /// Retries of a record whose handler failed with a retriable error, after
  /// the first attempt. The partition waits (order is kept); others go on.
  std::size_t max_retries = 3;
  /// Backoff before retry n is min(backoff_max, backoff_base * 2^(n-1)),
  /// with full jitter in its upper half.
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{10000};
  /// Where records that cannot be processed go; empty means "<agent>.dlq".
  std::string dlq_topic;
  /// A partition actor that dies is restarted from its last stored offset;
  /// more than `max_restarts` restarts within `restart_window` escalates: the
  /// partition is paused and the agent reports itself unhealthy.
  std::size_t max_restarts = 5;
  std::chrono::milliseconds restart_window{60000};
  /// What an escalation does beyond pausing the partition and marking the
  /// agent unhealthy (docs/supervision.md, "Escalation policies").
  enum class escalation_action {
    /// Nothing more: the partition stays paused here until reassigned.
    pause,
    /// The agent leaves its consumer group (offsets committed as at a stop),
    /// so the group moves its partitions to healthy members; the process and
    /// its other agents go on, this agent stays out and unhealthy.
    leave_group,
    /// The runtime asks for its own stop, as SIGTERM would: `run_until_signal`
    /// stops gracefully and returns 70 (EX_SOFTWARE) so that systemd or
    /// Kubernetes restarts the process; `wait_for_stop_request` returns true.
    exit,
  };
  escalation_action on_escalation = escalation_action::pause;
};

/// "pause", "leave_group" or "exit".
const char* to_string(supervision_policy::escalation_action a) noexcept;

/// One agent's settings. Defaults follow Kafka's consumer where one exists.
struct agent_config {
  /// Unique within a runtime; names the agent in logs, stats and the CLI.
  std::string name;
  /// Topics consumed; at least one.
  std::vector<std::string> topics;
  /// Real brokers: whether `runtime::start` refuses to start while a
  /// consumed topic does not exist (naming every missing one). By default
  /// the agent starts, waits for the topic and reports it in
  /// `agent_stats::missing_topics` (not ready meanwhile).
  bool require_topics = false;
  /// Topics the agent emits to, declared (optional): on a real broker
  /// `runtime::start` refuses to start while any of them does not exist,
  /// naming every missing one. An emit to an undeclared topic that does not
  /// exist fails only when librdkafka gives up on it (docs/supervision.md).
  std::vector<std::string> produces;
  /// State stores of the agent (`context::kv`): one RocksDB instance per
  /// store and partition under `runtime_config::state_dir`, backed by the
  /// compacted changelog topic `<group>-<store>-changelog` (docs/state.md).
  /// Names: letters, digits, '.', '_', '-'.
  std::vector<std::string> stores;
  /// Durable timers (`context::schedule`, docs/state.md "Timers"): kept in
  /// the internal store `kactor.timers`; a due timer comes back to its task
  /// as a record of the internal topic `<group>-timers` (created at start
  /// with the first input's partition count), so firing it is handled,
  /// retried, dead-lettered and committed as a record is. Implied by `requests`.
  bool timers = false;
  /// Request-reply, the requester's side (`context::request`): pending
  /// requests kept in the internal store `kactor.requests`, replies consumed
  /// from `reply_topic`, timeouts as timers.
  bool requests = false;
  /// Where replies to this agent's requests go; empty: `<name>.replies`.
  /// Created at start co-partitioned with the first input (a reply goes to
  /// the partition of the task that asked).
  std::string reply_topic;
  /// Consumer group id; defaults to `name`.
  std::string group;
  /// Where a partition the group has committed nothing for starts: the
  /// first record with a timestamp at or after this time (offsetsForTimes),
  /// its end if none is that new. Unset: `auto.offset.reset` (earliest).
  /// Committed offsets always win, so it acts on a group's first run only;
  /// replaying an existing group is `kactor replay`'s job.
  std::optional<std::chrono::system_clock::time_point> start_from;
  /// The bound on records a partition actor holds (taken from Kafka and not
  /// yet finished). A full actor with more records waiting pauses its
  /// partition (see `pause_after`).
  std::size_t max_poll_records = 500;
  /// A full actor pauses its partition once its oldest held record has waited
  /// this long and its last three slices of handling (2 ms each) ended with
  /// records still held: the handler is not keeping up. librdkafka drops a
  /// paused partition's prefetched records and fetches them again on resume,
  /// so pausing an actor that drains in less than a fetch round trip, or
  /// whose records only wait for its turn among many partitions on the
  /// workers, would only slow it down. 0 pauses as soon as the actor is full.
  std::chrono::milliseconds pause_after{100};
  /// MiB of records this agent may prefetch and hold. An eighth bounds the
  /// records its partition actors hold (key, value and ~256 bytes each),
  /// divided evenly over the tasks the member holds and divided again on
  /// every assignment change; an actor takes within both its share and
  /// `max_poll_records`, and always one record while under its share. The
  /// rest is librdkafka's, divided over all the partitions of the agent's
  /// topics at start: a 64th bounds a fetch response (`fetch.max.bytes`,
  /// 4–50 MiB) and each partition's share of the rest bounds its queue, by
  /// bytes and by count (`queued.max.messages.kbytes`, `queued.min.messages`;
  /// set any of them in `kafka` to override). That share is the same whatever
  /// the agent holds (librdkafka 2.0.2 reads the settings once), so prefetch
  /// stays within the budget for any assignment; partitions added to a topic
  /// later add their share on top. A fetch still takes whole record batches
  /// (up to 1 MiB per partition), so each partition may hold one fetch beyond
  /// its share; where the queues' part cannot hold two fetches for every
  /// partition (over 110 with the default), partitions take turns to fetch,
  /// as many at once as it can (at least 100 ms each), which bounds what
  /// they hold but delays waiting partitions. Held records keep the fetch
  /// responses they came in alive (docs/design.md, "Memory under lag").
  std::size_t prefetch_budget_mb = 256;
  /// A paused partition resumes when its actor holds fewer records than this;
  /// 0 means `max_poll_records / 2`.
  std::size_t resume_below = 0;
  assignor_kind assignor = assignor_kind::cooperative_sticky;
  /// Static membership (`group.instance.id`) when not empty. With the
  /// cooperative assignor, a member restarted within its session after dying
  /// inside a rebalance may find partitions assigned to no one; the agent
  /// then forces a rebalance with a short-lived member of its own (logged at
  /// warning; docs/design.md, "Stranded partitions").
  std::string group_instance_id;
  /// librdkafka consumer properties for this agent only.
  std::map<std::string, std::string> kafka;
  supervision_policy supervision;
  processing_guarantee guarantee = processing_guarantee::at_least_once;
  /// exactly_once: how often the open transaction is committed.
  std::chrono::milliseconds transaction_interval{100};
  /// exactly_once: start a commit sooner once this many records were handled
  /// in the open transaction (0: by time only). Records handled while the
  /// commit starts (until every partition actor reaches the barrier) join it.
  std::size_t transaction_max_records = 0;
};

/// The operator's HTTP endpoint: Prometheus metrics and health probes.
struct metrics_config {
  /// Where to serve `/metrics` (Prometheus text), `/healthz` (live) and
  /// `/readyz` (ready): "PORT" (on 127.0.0.1) or "HOST:PORT" ("0.0.0.0:PORT"
  /// for every interface); port 0 takes a free one (`runtime::metrics_port`
  /// says which). Empty: off.
  std::string listen;
};

/// A runtime's settings, from YAML (`load_config`) and/or code.
struct runtime_config {
  /// Bootstrap servers; empty starts librdkafka's embedded mock cluster.
  std::string brokers;
  std::string client_id = "kactor";
  /// How often at_least_once agents commit their stored offsets, 1 ms to a
  /// day (librdkafka's `auto.commit.interval.ms`, set from it); they also
  /// commit on revoke and shutdown.
  std::chrono::milliseconds commit_interval{1000};
  /// Where state stores keep their local RocksDB instances:
  /// `<state_dir>/<group>/<store>/<partition>`. One live process per
  /// directory: start refuses a directory another process holds.
  std::string state_dir = "kactor-state";
  /// MiB shared by every state store of the process: one block cache, of
  /// which memtables may take half (RocksDB's WriteBufferManager).
  std::size_t state_memory_mb = 128;
  /// Worker threads of the CAF scheduler; 0 lets CAF 0.17 choose: one per
  /// core, but at least 4.
  std::size_t worker_threads = 0;
  /// kactor's log (process-wide: see `configure_log`); stderr at info by default.
  log_config log;
  /// The metrics and health endpoint (off by default).
  metrics_config metrics;
  /// librdkafka properties for every client (consumers and producer).
  std::map<std::string, std::string> kafka;
  /// librdkafka properties for consumers only.
  std::map<std::string, std::string> consumer;
  /// librdkafka properties for the shared producer only.
  std::map<std::string, std::string> producer;
  /// Agents configured in the file; code-defined agents of the same name
  /// start from these settings.
  std::vector<agent_config> agents;
};

/// Reads and validates a YAML config file. Throws `config_error` naming the
/// key (for example `agents[0].assignor`) and the allowed values.
runtime_config load_config(const std::string& path);

/// As `load_config`, from YAML text.
runtime_config parse_config(const std::string& yaml);

/// Applies one `key=value` override, as given by `--set` on the command line.
/// Keys are the YAML paths: `brokers`, `commit_interval_ms`, `kafka.<prop>`,
/// `agents.<name>.max_poll_records`, ... Throws `config_error` for unknown keys.
void apply_override(runtime_config& cfg, const std::string& assignment);

/// Checks the values kactor itself interprets (librdkafka checks its own
/// properties when clients are created). Throws `config_error`.
void validate(const runtime_config& cfg);

/// Every key the config file accepts, as the README's table writes them
/// ("commit_interval_ms", "kafka.<property>", "agents[].supervision.dlq_topic").
std::vector<std::string> config_keys();

/// As `validate`, for one agent; `where` prefixes the key in errors.
void validate(const agent_config& cfg, const std::string& where);

}  // namespace kactor
