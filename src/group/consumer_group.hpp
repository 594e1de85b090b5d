#pragma once
// One agent's consumer: its group thread serves the main consumer queue
// (rebalances, errors, periodic commits) and turns each assigned partition
// into a partition actor fed by the partition's own librdkafka queue.
// exactly_once: the group thread also runs the transaction cycle
// (transactions.cpp).

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <kactor/runtime.hpp>

#include "actors/dead_letter_actor.hpp"
#include "actors/in_flight_budget.hpp"
#include "actors/partition_actor.hpp"
#include "actors/retry_policy.hpp"
#include "actors/supervisor.hpp"
#include "src/group/ports.hpp"
#include "src/group/restorer.hpp"
#include "src/group/stranded_partitions.hpp"
#include "src/group/task_stores.hpp"
#include "src/kafka/fetch_gate.hpp"
#include "src/kafka/handles.hpp"
#include "src/kafka/join_watch.hpp"
#include "src/kafka/partition_queue.hpp"
#include "src/kafka/producer.hpp"

namespace kactor::detail {

struct agent_definition {
  agent_config cfg;
  behavior_factory factory;
  std::chrono::milliseconds tick_every{0};
  /// How many of its partitions may fetch at once (`fetch_gate`, sized by
  /// `divide_prefetch_budget`); 0: all of them.
  std::size_t fetch_slots = 0;
  /// What the fetching partitions may hold, bytes (`fetch_gate::adapt`).
  std::uint64_t fetch_queue_bytes = 0;
};

class consumer_group {
 public:
  /// Creates the consumer (so bad properties fail here, naming the key).
  /// at_least_once agents emit through `producer`; exactly_once agents through a
  /// transactional producer of their own, made from `producer_props`. With
  /// `stores` (the agent declared state stores), each assigned partition's
  /// stores are restored on a restorer thread before its actor takes records.
  consumer_group(caf::actor_system& sys, agent_definition def, property_list props,
                 shared_producer& producer, const property_list& producer_props,
                 std::chrono::milliseconds commit_interval,
                 std::shared_ptr<const store_layout> stores = nullptr);
  /// Stops if running.
  ~consumer_group();

  /// Subscribes and starts the group thread.
  void start();

  /// Before `start`: what an escalation with on_escalation `exit` does
  /// (runs on the supervisor's thread).
  void on_escalation(std::function<void()> f) { health_->on_escalation = std::move(f); }

  /// Closes the consumer on the group thread: every partition actor finishes
  /// the record in hand and waits for its acks, offsets are committed, the
  /// member leaves the group (src/group/leave.cpp: during a rebalance it
  /// waits up to a heartbeat interval for it). Blocks until done. Idempotent.
  void stop();

  /// Asks the group thread to stop without waiting (`stop` waits), so that
  /// several agents stop at once. Any thread.
  void request_stop() { stop_.store(true, std::memory_order_release); }

  agent_stats stats() const;

  /// The consumed topics the cluster does not know (asked through the
  /// consumer, so none is created by asking). Throws `kafka_exception` when
  /// the brokers do not answer.
  std::vector<std::string> missing_topics();
  /// Before `start`: consumed topics that do not exist. The group thread
  /// looks for them every second and drops each one found.
  void watch_missing_topics(std::vector<std::string> topics);

  /// The agent's dead-letter topic: the configured one or "<agent>.dlq".
  static std::string dlq_topic(const agent_config& cfg);

  /// The agent's consumer group: the configured one or the agent's name.
  static const std::string& group_id(const agent_config& cfg) {
    return cfg.group.empty() ? cfg.name : cfg.group;
  }

 private:
  /// An assigned task: its inputs' queues, and its stores.
  struct assigned_task {
    assigned_task(rd_kafka_t* rk, std::vector<topic_partition> tps, fetch_gate* gate)
        : inputs(std::move(tps)) {
      for (const auto& tp : inputs)
        queues.push_back(std::make_unique<partition_queue>(rk, tp, gate));
    }
    /// Lane i's input partition and its queue.
    std::vector<topic_partition> inputs;
    // The queues (and their callbacks) go before the hook their callbacks wake.
    std::unique_ptr<wake_hook> hook = std::make_unique<wake_hook>();
    std::vector<std::unique_ptr<partition_queue>> queues;
    /// The task's state stores (null if the agent has none).
    std::shared_ptr<task_stores> stores;
  };
  /// The topics the consumer subscribes to: with co-partitioned inputs the
  /// first only (the group assigns it; the others follow), otherwise all.
  std::vector<std::string> subscribed_topics() const;
  /// The inputs of the task the assigned partition `tp` starts: with
  /// co-partitioned inputs, partition p of each; otherwise `tp` alone.
  std::vector<topic_partition> task_inputs(const topic_partition& tp) const;
  /// `parts` (assigned by the group) with their tasks' other inputs.
  tpl_ptr with_co_partitions(const rd_kafka_topic_partition_list_t* parts) const;
  /// Group thread, every 5 s (a metadata request per input, each waited
  /// for up to 0.5 s): co-partitioned inputs whose counts differ now make
  /// the agent unhealthy, saying which (once).
  void check_co_partitioning();

  void run();
  /// Group thread, when the run loop ends: revokes every partition (offsets
  /// committed) and leaves the group, promptly also during a rebalance.
  void close_consumer();
  /// Group thread, leaving without a LeaveGroup: takes an assignment (or
  /// revocation) librdkafka hands over and gives it back at once.
  void drop(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  /// Group thread, after close_consumer revoked everything: destroys the
  /// consumer with RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE once no assignment
  /// can reach it before the destroy's termination, or once `deadline`
  /// passed (docs/design.md, workarounds).
  void destroy_without_close(std::chrono::steady_clock::time_point deadline);
  /// Where librdkafka 2.0.2 cannot destroy the consumer (a consumed topic
  /// was deleted; #4312's abort window), says so and leaves the handle and
  /// its hooks to the process. Whether it did.
  bool keep_if_undestroyable();
  /// Destructor: destroys the consumer unless it is gone already or
  /// librdkafka 2.0.2 cannot destroy it.
  void release_consumer();
  /// librdkafka's log lines of this consumer (its threads): the membership
  /// ones to `hooks_->join`, the rest to kactor's log.
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* text);
  /// librdkafka's error events, on the group thread (consumer poll).
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  /// Group thread: after an unknown-topic error, finds the consumed topics
  /// that no longer exist (at most once a second) and reports them missing,
  /// once each. Whether any consumed topic is missing now.
  bool notice_deleted_topics();
  std::chrono::steady_clock::time_point last_deleted_check_{};
  /// A consumed topic was found deleted (group thread; read after it ended).
  bool topic_deleted_ = false;
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque);
  void assign(rd_kafka_topic_partition_list_t* parts);
  /// Group thread: stops the partitions' actors and commits their offsets
  /// (at_least_once: unless `commit_offsets` is false).
  void revoke(rd_kafka_topic_partition_list_t* parts, bool commit_offsets = true);
  std::shared_ptr<partition_counters> counters_for(const topic_partition& tp);
  /// After a cooperative rebalance callback: the partitions still held
  /// fetch again at once instead of up to a second later (partition_queue::wake_fetcher).
  void wake_held_partitions();

  // exactly_once, group thread only.
  /// Records handled (processed or failed for good) so far, all partitions.
  std::uint64_t handled() const;
  std::optional<partition_offsets> barrier(caf::scoped_actor& self);
  void release(caf::scoped_actor& self);
  /// Barrier, then commit the open transaction with every partition's offset
  /// (or abort and rewind if a partition asked for it). The actors go on only
  /// if `release_after` and the producer works.
  void transaction_cycle(bool release_after);
  void abort_and_rewind(caf::scoped_actor& self);
  /// The producer is fenced or failed, or a commit's outcome is unknown: a
  /// new producer (same transactional id) settles the old transaction, then
  /// every partition reads again from the group's committed offsets. False
  /// (and `broken()`) if that failed; `run` tries again after a backoff.
  bool recover(caf::scoped_actor& self, const error_info& why);
  /// Sends every assigned partition back to `positions` (or, for those
  /// without, to the last offset committed here), after a backoff for
  /// `attempts`; records out of retries go to the DLQ on the next pass.
  void rewind_all(caf::scoped_actor& self,
                  const std::map<topic_partition, kactor::offset>& positions, std::size_t attempts);
  /// Holds every partition actor, waits until none is in a record, then
  /// counts the attempts of the records whose failures aborted the
  /// transaction; returns the highest count.
  std::size_t count_failures(caf::scoped_actor& self);

  /// A record whose failures aborted transactions; `set_aside`: it goes to
  /// the DLQ on the next pass whatever its attempts.
  struct failed_record {
    dead_letter_cause poison;
    bool set_aside = false;
  };

  caf::actor_system& sys_;
  agent_definition def_;
  std::unique_ptr<shared_producer> txn_producer_;  // exactly_once only
  shared_producer* producer_;
  /// The actors' way into `producer_`.
  std::unique_ptr<producer_sink> sink_;
  std::shared_ptr<transaction_control> txn_;  // exactly_once only
  /// The records the actors hold, as a part of the agent's prefetch budget:
  /// divided over the tasks held on every assignment change.
  in_flight_budget in_flight_;
  std::map<std::pair<topic_partition, kactor::offset>, failed_record> failed_records_;
  std::atomic<std::uint64_t> transactions_committed_{0};
  std::atomic<std::uint64_t> transactions_aborted_{0};
  std::atomic<std::uint64_t> producer_resets_{0};
  std::atomic<std::int64_t> barrier_wait_us_{0};
  std::atomic<std::int64_t> commit_time_us_{0};
  atomic_histogram commit_latency_;
  /// Failed attempts to re-create the transactional producer since it last
  /// worked; while not 0 the partition actors stay held at the barrier.
  std::atomic<std::size_t> failed_recoveries_{0};
  bool broken() const { return failed_recoveries_.load(std::memory_order_relaxed) > 0; }
  /// When the partition actors held after a rewind may start records again.
  std::chrono::steady_clock::time_point backoff_until_{};
  /// The producer's emitted count when the last transaction committed.
  std::uint64_t emitted_at_commit_ = 0;
  backoff backoff_{def_.cfg.supervision.backoff_base, def_.cfg.supervision.backoff_max};
  /// at_least_once: how often stores are checked for a checkpoint (the
  /// commit interval, at least a second).
  std::chrono::milliseconds checkpoint_interval_;
  /// What the consumer's callbacks reach (its opaque): the group, and what
  /// its log lines say about its membership. A consumer handle left to the
  /// process keeps its hooks, with `group` null.
  struct consumer_hooks {
    std::atomic<consumer_group*> group;
    join_watch join;
    /// The user asked for librdkafka debug lines (`debug`): they go to the log.
    bool forward_debug = false;
  };
  /// Shared with the thread that destroys a consumer without a close.
  std::shared_ptr<consumer_hooks> hooks_ = std::make_shared<consumer_hooks>();
  /// How long a stop waits for a JoinGroup or SyncGroup in flight before it
  /// leaves without a LeaveGroup: the heartbeat interval and half a second.
  std::chrono::milliseconds leave_wait_{3500};
  /// Leaving without a LeaveGroup: an assignment that comes is dropped.
  bool leaving_ = false;
  handle_ptr rk_;
  bool cooperative_;
  /// An agent with state stores and several inputs: a task is partition p
  /// of every input, and the group assigns only the first input's.
  bool co_partitioned_;
  bool co_partitioning_reported_ = false;
  /// The consumer's auto.offset.reset reads from a partition's start.
  bool reset_earliest_ = false;
  /// `start_from` in ms since the epoch: where a partition without a commit starts.
  std::optional<std::int64_t> start_from_ms_;
  /// Group thread, rebalance callback: `start_from` for the partitions of
  /// `given` the group has not committed (see start_uncommitted_at).
  void start_uncommitted(rd_kafka_topic_partition_list_t* given);
  /// Which partitions fetch now, when not all may (null: all may). Declared
  /// before the tasks, so it outlives their queues, its members.
  std::unique_ptr<fetch_gate> gate_;
  /// Assigned tasks, by their first input.
  std::map<topic_partition, std::unique_ptr<assigned_task>> assigned_;
  mutable std::mutex counters_mx_;
  std::map<topic_partition, std::shared_ptr<partition_counters>> counters_;
  std::atomic<std::uint64_t> rebalances_{0};
  /// How long the last revocation callback took, and the longest (written
  /// on the group thread only).
  std::atomic<std::int64_t> revoke_last_us_{0};
  std::atomic<std::int64_t> revoke_max_us_{0};
  /// Set by the first assignment (of any partitions): the member joined.
  std::atomic<bool> joined_{false};
  /// A static member of a cooperative group: the consumer's properties
  /// without its instance id, for `stranded_watch_` (otherwise empty).
  property_list watch_props_;
  /// From the first assignment until the group thread ends.
  std::unique_ptr<stranded_partition_watch> stranded_watch_;
  std::chrono::steady_clock::time_point started_at_{};
  mutable std::mutex missing_mx_;
  std::vector<std::string> missing_topics_;
  /// Group thread: drops the missing topics that exist now.
  void look_for_missing_topics();
  /// Those of `topics` the cluster does not know, asked through the consumer.
  std::vector<std::string> absent(const std::vector<std::string>& topics, int timeout_ms);
  std::shared_ptr<agent_health> health_ = std::make_shared<agent_health>();
  supervisor_actor supervisor_;
  dead_letter_actor dead_letters_;
  /// State stores (null without): where they live, and the thread that
  /// restores and closes them.
  std::shared_ptr<const store_layout> stores_;
  std::unique_ptr<restorer> restorer_;
  std::atomic<bool> stop_{false};
  /// on_escalation: leave_group, set by the supervisor: the group thread
  /// closes the consumer and ends.
  std::atomic<bool> leave_{false};
  std::thread thread_;
};

}  // namespace kactor::detail
