#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/fwd.hpp>

#include <kactor/config.hpp>
#include <kactor/context.hpp>
#include <kactor/event.hpp>
#include <kactor/histogram.hpp>

namespace kactor {
namespace detail {
struct agent_definition;
}

/// A plain record handler; see `agent_builder::on`.
using record_handler = std::function<void(const event&, context&)>;

/// One partition's counters, as its actors published them (read at any time:
/// each is current to within the record in hand). Counts are over the whole
/// life of the runtime, across assignments, restarts and rebalances.
///
/// Every record the handler finishes is counted once per handling, as
/// `processed` or as `failed`: the two add up to the records handled. A
/// record handled again — after its actor restarted, after the partition
/// came back in a rebalance, or (exactly_once) after an aborted transaction —
/// is counted again (at-least-once handling; exactly_once outputs).
struct partition_stats {
  topic_partition tp;
  /// Whether this process holds the partition now.
  bool assigned = false;
  /// How often this process was given, and lost, the partition.
  std::uint64_t assignments = 0;
  std::uint64_t revocations = 0;
  /// Records whose handler returned normally. A record whose output the
  /// broker then refused for good moves from here to `failed`.
  std::uint64_t processed = 0;
  /// Records set aside for the dead-letter topic: retries exhausted, an
  /// irrecoverable error, or an output refused for good. Counted when set
  /// aside; `dead_lettered` counts them once written.
  std::uint64_t failed = 0;
  /// Records skipped because the partition's actor had already handled them
  /// (librdkafka can deliver a record again after a pause and resume).
  std::uint64_t duplicates_dropped = 0;
  /// The agent's reply topic (requests): replies that came after their
  /// request's timeout (or to no request of this agent), dropped.
  std::uint64_t late_replies = 0;
  /// Records held now, and the most ever held; never above max_poll_records.
  std::size_t in_flight = 0;
  std::size_t max_in_flight = 0;
  /// Whether the partition is paused now (its actor is full and behind), and
  /// how often it was paused and resumed.
  bool paused = false;
  std::uint64_t pauses = 0;
  std::uint64_t resumes = 0;
  /// The next offset to commit (-1 before the first finished record): every
  /// record below it is finished and its outputs acknowledged.
  std::int64_t stored_offset = -1;
  /// exactly_once: the offset the last committed transaction holds.
  std::int64_t committed_offset = -1;
  /// The partition's high watermark as this process's consumer last saw it
  /// (updated by every fetch response); -1 while unknown or not assigned.
  std::int64_t end_offset = -1;
  /// Records between the committed position (exactly_once: `committed_offset`,
  /// else `stored_offset`, committed within `commit_interval`) and
  /// `end_offset`; -1 while either is unknown.
  std::int64_t lag() const {
    const auto at = committed_offset >= 0 ? committed_offset : stored_offset;
    if (end_offset < 0 || at < 0) return -1;
    return end_offset > at ? end_offset - at : 0;
  }
  /// State stores: whether the partition's stores are being restored from
  /// their changelogs now, from its assignment until they are ready (it
  /// handles no record meanwhile; the agent's other partitions go on), and
  /// the changelog records of the current or last restore read so far and to
  /// read in all.
  bool restoring = false;
  std::uint64_t restored = 0;
  std::uint64_t to_restore = 0;
  /// Every changelog record restored into the partition's stores by this
  /// process, over all its restores (a counter: its rate is the restore
  /// rate), and how long the current restore has run so far, or the last
  /// one took.
  std::uint64_t restored_total = 0;
  std::chrono::microseconds restore_time{0};
  /// Handler runs after a retriable failure (not counting the first).
  std::uint64_t retries = 0;
  /// Dead letters the broker acknowledged (at most `failed`; lower while a
  /// write is in flight or refused).
  std::uint64_t dead_lettered = 0;
  /// Restarts of the partition's actor after it died.
  std::uint64_t restarts = 0;
  /// The supervisor gave up on the partition: paused until it is assigned
  /// again (docs/supervision.md), for `escalation_cause`.
  bool escalated = false;
  std::string escalation_cause;
  /// Warnings about this partition kept out of the log: past a burst of 5
  /// per 10 s, lines are counted here and the next line written says how
  /// many were held back.
  std::uint64_t warnings_held_back = 0;
};

struct agent_stats {
  std::string name;
  std::string group;
  std::string dead_letter_topic;
  /// False once a partition escalated (its actor restarted too often, or a
  /// dead letter cannot be written: see docs/supervision.md), or while an
  /// exactly_once producer cannot be re-created.
  bool healthy = true;
  /// Why `healthy` is false: the first escalation's cause, naming the
  /// partition. Empty while healthy.
  std::string unhealthy_cause;
  /// Real brokers: consumed topics that do not exist (yet). The agent looks
  /// for them every second and consumes each one once it appears. Start
  /// refuses them instead with `agent_config::require_topics`.
  std::vector<std::string> missing_topics;
  /// Healthy, every consumed topic exists, the consumer has joined its group
  /// (it had its first assignment, possibly of no partitions), and no
  /// partition it holds is restoring its state stores: what a readiness
  /// probe should report.
  bool ready = false;
  std::uint64_t rebalances = 0;
  /// How long the last revocation held the rebalance callback, and the
  /// longest: stopping the revoked partitions' actors (each finishes the
  /// record in hand and waits for its outputs' acknowledgements, bounded by
  /// the producer's message.timeout.ms) and committing their offsets
  /// (exactly_once: the open transaction). librdkafka holds every partition
  /// of the consumer paused while it runs (issue 14), so this is what a
  /// rebalance costs the partitions that stay. Zero until a revocation.
  std::chrono::microseconds last_revoke{0};
  std::chrono::microseconds longest_revoke{0};
  /// exactly_once: transactions committed and aborted (an abort includes a
  /// transaction lost with its producer), and how often the transactional
  /// producer was re-created: after it was fenced or failed fatally, or after
  /// a commit whose outcome was unknown. `healthy` is false while it cannot be.
  std::uint64_t transactions_committed = 0;
  std::uint64_t transactions_aborted = 0;
  std::uint64_t producer_resets = 0;
  /// exactly_once, summed over the transaction cycles that ended in a commit:
  /// how long the group thread waited for every partition actor to answer the
  /// barrier, and how long the commit took (offsets sent, records
  /// acknowledged, EndTxn answered, next transaction begun). Divide by
  /// `transactions_committed` for averages.
  std::chrono::microseconds barrier_wait{0};
  std::chrono::microseconds commit_time{0};
  /// exactly_once: how long each committed transaction's commit took (as
  /// `commit_time`, one observation per commit).
  latency_histogram commit_latency;
  /// How long each handler call took (the agent's behaviour on one record;
  /// a retried record counts once per attempt), over every partition this
  /// process handled. Internal records (timer firings, replies) included.
  latency_histogram handler_latency;
  /// Records handed to, and deliveries failed by, the producer this agent
  /// emits through: the runtime's shared one (so the same figures for every
  /// at_least_once agent) or, exactly_once, the agent's own.
  std::uint64_t emitted = 0;
  std::uint64_t delivery_failures = 0;
  std::vector<partition_stats> partitions;
};

struct runtime_stats {
  std::vector<agent_stats> agents;

  /// Records finished (processed or failed) over every agent and partition;
  /// with `agent` set, over that agent's partitions only.
  std::uint64_t finished(const std::string& agent = {}) const;
};

class runtime;

/// Describes one agent; returned by `runtime::agent`. Each setter overrides
/// what the config file said for this agent. Use before `runtime::start`:
/// every setter throws `std::logic_error` after it (the agent already runs).
class agent_builder {
 public:
  /// Adds a consumed topic. The first call replaces the topics the config
  /// file listed for this agent; a topic already listed is not added again.
  agent_builder& consume(std::string topic);
  /// Declares a topic the agent emits to; `runtime::start` checks that it
  /// exists on a real broker (see agent_config::produces). Replaces and
  /// collapses as `consume` does.
  agent_builder& produces(std::string topic);
  /// Declares a state store (`context::kv(name)`), as `agents[].stores`
  /// does; replaces and collapses as `consume` does. An agent with stores
  /// and several input topics works in tasks: one partition actor owns
  /// partition p of every input and of each store, so the inputs must have
  /// the same partition count (start throws `config_error` naming
  /// `agents.<name>.topics` and every count otherwise; a count that changes
  /// later makes the agent unhealthy, saying so). docs/state.md, "Tasks".
  agent_builder& store(std::string name);
  /// Durable timers for this agent's behaviour (`context::schedule`), as
  /// `agents[].timers: true` does: they live in the internal store
  /// `kactor.timers`, so the agent works in tasks as an agent with stores
  /// does (docs/state.md, "Timers").
  agent_builder& timers();
  /// Request-reply as requester (`context::request`), as
  /// `agents[].requests: true`; replies come back on `reply_topic` (empty:
  /// `<agent>.replies`), created co-partitioned with the first input. Implies
  /// `timers()` (a request's timeout is one).
  agent_builder& requests(std::string reply_topic = {});
  agent_builder& group(std::string group_id);
  /// `agent_config::start_from`: partitions the group has never committed
  /// start at their first record at or after `t`.
  agent_builder& start_from(std::chrono::system_clock::time_point t);
  /// Throws `config_error` for n < 1 (the upper bound is checked at start).
  agent_builder& max_poll_records(std::int64_t n);
  /// Throws `config_error` for n < 0.
  agent_builder& resume_below(std::int64_t n);
  agent_builder& pause_after(std::chrono::milliseconds d);
  /// `agent_config::prefetch_budget_mb`. Throws `config_error` for 0.
  agent_builder& prefetch_budget(std::size_t mb);
  agent_builder& assignor(assignor_kind a);
  agent_builder& static_member(std::string group_instance_id);
  /// Retries, dead-letter topic and restart limits (see supervision_policy).
  agent_builder& supervision(supervision_policy policy);
  /// exactly_once: outputs, dead letters and offsets commit in one
  /// transaction every `interval`, or as soon as `max_records` records were
  /// handled in it if that is not 0 (see processing_guarantee).
  agent_builder& exactly_once(std::chrono::milliseconds interval = std::chrono::milliseconds(100),
                              std::size_t max_records = 0);
  /// Sends `tick_atom` to each partition actor's behaviour at this interval.
  agent_builder& tick_every(std::chrono::milliseconds interval);
  /// The primary API: the agent's behaviour as a CAF behaviour.
  agent_builder& behavior(behavior_factory f);
  /// Convenience: a behaviour that calls `h` for every record.
  agent_builder& on(record_handler h);
  /// Typed records: parses each value as the Protobuf message `Message`
  /// and calls `h(message, ctx)`, or `h(message, event, ctx)` when `h`
  /// also wants the record (key, offset, headers). A value that does not
  /// parse is an irrecoverable failure: the record goes to the dead-letter
  /// topic with the type named, and the partition goes on.
  /// `rt.agent("a").consume("orders").on<Order>([](const Order& o, kactor::context& ctx) {...})`
  template <class Message, class Handler>
  agent_builder& on(Handler h) {
    return on(record_handler([h = std::move(h)](const event& e, context& ctx) mutable {
      const auto msg = e.as<Message>();
      if constexpr (std::is_invocable_v<Handler&, const Message&, const event&, context&>)
        h(msg, e, ctx);
      else
        h(msg, ctx);
    }));
  }

 private:
  friend class runtime;
  agent_builder(runtime& rt, std::size_t index) : rt_(&rt), index_(index) {}
  /// This agent's definition; throws `std::logic_error` naming `setter` after start.
  detail::agent_definition& def(const char* setter) const;
  runtime* rt_;
  std::size_t index_;
};

/// What `runtime::run_until_signal` returns after an escalation stopped the
/// runtime (supervision_policy::on_escalation `exit`): EX_SOFTWARE, so that
/// systemd (`Restart=on-failure`) or Kubernetes restarts the process.
inline constexpr int escalation_exit_code = 70;

/// One process's kactor: the CAF actor system, one consumer (and group thread)
/// per agent, a shared idempotent producer, and, when no brokers are given,
/// librdkafka's embedded mock cluster.
///
/// Thread-safety: configure and `start` from one thread; `stats`,
/// `request_stop` and `bootstrap_servers` may be called from any thread.
class runtime {
 public:
  /// Validates `cfg` (throws `config_error`) and starts the embedded cluster
  /// if `cfg.brokers` is empty. No consumer exists before `start`.
  explicit runtime(runtime_config cfg = {});
  /// Stops (as `stop`) if still running.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Defines (or refines the config file's) agent `name`. Throws
  /// `std::logic_error` after `start`: an agent defined then would never run.
  agent_builder agent(const std::string& name);

  /// Creates a topic (no-op if it exists). On the embedded cluster this is the
  /// only way to get a topic with more than the default partitions.
  void create_topic(const std::string& name, int partitions);

  /// Emits a record that belongs to no source record (feeding a pipeline,
  /// replies from outside a handler). Copies the payload; delivery is
  /// asynchronous (see `flush`). Usable after construction, from any thread,
  /// until `stop`; after it, throws `std::logic_error`.
  void emit(std::string_view topic, std::string_view key, std::string_view value,
            const headers& hdrs = {});

  /// Waits until every record emitted so far is acknowledged; false on timeout.
  /// After `stop`: whether stop's own flush got every record acknowledged.
  bool flush(std::chrono::milliseconds timeout);

  /// Validates every agent, creates the producer and the consumers and joins
  /// the groups. On a real broker it creates missing dead-letter topics and
  /// checks that every declared output (`produces`) exists. Throws
  /// `config_error` for unusable settings (unknown librdkafka properties, a
  /// dead-letter topic that cannot be created, missing outputs: the message
  /// names every one) and `kafka_exception` for clients that cannot be
  /// created or brokers that cannot be reached.
  void start();

  /// Graceful stop: partition actors finish the record in hand and wait for
  /// their emits to be acknowledged, offsets are committed, consumers leave
  /// their groups, the producer is flushed. Idempotent.
  void stop();

  /// Asks a running runtime to stop; safe from any thread (not from a signal
  /// handler: `run_until_signal` handles signals).
  void request_stop();

  /// Starts (if needed), blocks until SIGINT/SIGTERM or `request_stop`, then
  /// stops gracefully and returns 0, or `escalation_exit_code` when the stop
  /// came from an agent's escalation with on_escalation `exit`. If `start` throws (bad
  /// configuration, brokers that cannot be reached), logs why at error level and returns 1: `return
  /// rt.run_until_signal();` ends `main` with a clean message and a non-zero exit. Call `start`
  /// first to handle those exceptions yourself.
  int run_until_signal();

  /// Installs SIGINT/SIGTERM handlers that count as `request_stop` (seen by
  /// `wait_for_stop_request`), for programs that run their own main loop.
  void stop_on_signals();

  /// Starts (if needed) and blocks until `done(stats())` holds (returns
  /// true), or a stop is requested or `timeout` passes (returns false). The
  /// predicate runs on the calling thread, every 10 ms. Leaves the runtime
  /// running: for "feed, wait until handled, check" programs and tests, e.g.
  /// `rt.run_until([](const runtime_stats& s) { return s.finished() >= 60; }, 30s)`.
  bool run_until(const std::function<bool(const runtime_stats&)>& done,
                 std::chrono::milliseconds timeout);

  /// Blocks until `request_stop` was called (or a signal arrived, see
  /// `stop_on_signals`) or `timeout` passed; returns whether a stop was requested.
  bool wait_for_stop_request(std::chrono::milliseconds timeout);

  /// The brokers clients connect to (the embedded cluster's when embedded).
  const std::string& bootstrap_servers() const;

  /// Whether this runtime runs on librdkafka's embedded mock cluster.
  bool embedded() const;

  /// A snapshot of every agent's counters; after `stop`, their final values.
  runtime_stats stats() const;

  /// The port of the metrics and health endpoint (`metrics.listen`), from
  /// `start` until `stop`; 0 when it is off or not started. `start` throws
  /// `config_error` naming `metrics.listen` when it cannot listen.
  int metrics_port() const;

  /// The CAF actor system hosting the partition actors.
  caf::actor_system& system();

  struct impl;

 private:
  friend class agent_builder;
  std::unique_ptr<impl> impl_;
};

}  // namespace kactor
