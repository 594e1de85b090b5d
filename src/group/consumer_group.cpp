#include "src/group/consumer_group.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include <caf/all.hpp>
#include <kactor/log.hpp>

#include "actors/failpoint.hpp"
#include "src/group/store_setup.hpp"
#include "src/kafka/admin.hpp"

namespace kactor::detail {

consumer_group::consumer_group(caf::actor_system& sys, agent_definition def, property_list props,
                               shared_producer& producer, const property_list& producer_props,
                               std::chrono::milliseconds commit_interval,
                               std::shared_ptr<const store_layout> stores)
    : sys_(sys),
      def_(std::move(def)),
      producer_(&producer),
      in_flight_(in_flight_part(static_cast<std::uint64_t>(def_.cfg.prefetch_budget_mb) << 20)),
      checkpoint_interval_(
          std::max<std::chrono::milliseconds>(commit_interval, std::chrono::seconds(1))),
      cooperative_(def_.cfg.assignor == assignor_kind::cooperative_sticky),
      co_partitioned_(stores != nullptr && def_.cfg.topics.size() > 1),
      stores_(std::move(stores)) {
  const std::string where = "agents." + def_.cfg.name;
  if (stores_) restorer_ = std::make_unique<restorer>(def_.cfg.name, props);
  if (def_.fetch_slots > 0) {
    gate_ = std::make_unique<fetch_gate>(def_.fetch_slots, std::chrono::milliseconds(100),
                                         std::chrono::seconds(1), def_.fetch_queue_bytes);
    // A partition that reached its end gives its turn to a waiting one.
    props.push_back(property{"", "enable.partition.eof", "true"});
  }
  props.push_back(property{where, "group.id", group_id(def_.cfg)});
  props.push_back(property{where, "partition.assignment.strategy", to_string(def_.cfg.assignor)});
  if (!def_.cfg.group_instance_id.empty())
    props.push_back(property{where, "group.instance.id", def_.cfg.group_instance_id});
  props.push_back(property{"", "enable.auto.offset.store", "false"});
  // at_least_once: librdkafka's own timer commits the stored offsets. It
  // reads the group's join state on librdkafka's main thread as it sends, so
  // no periodic commit goes out behind a JoinGroup: such a commit is answered
  // ILLEGAL_GENERATION, which librdkafka 2.0.2 takes for a lost assignment
  // (librdkafka #4059) and revokes every partition without a commit.
  // exactly_once commits offsets in its transactions.
  const bool auto_commit = def_.cfg.guarantee != processing_guarantee::exactly_once;
  props.push_back(property{"", "enable.auto.commit", auto_commit ? "true" : "false"});
  if (auto_commit)
    props.push_back(
        property{"", "auto.commit.interval.ms", std::to_string(commit_interval.count())});
  append(props, where + ".kafka", def_.cfg.kafka);
  if (cooperative_ && !def_.cfg.group_instance_id.empty())
    for (const auto& p : props)
      if (p.name != "group.instance.id") watch_props_.push_back(p);
  // A stop reads the member's JoinGroup and SyncGroup state from librdkafka's
  // cgrp debug lines (src/group/leave.cpp); they reach the log only if the
  // user asked for debug lines.
  property debug{"", "debug", "cgrp"};
  for (const auto& p : props)
    if (p.name == "debug")
      debug = property{p.source, "debug", p.value.empty() ? "cgrp" : p.value + ",cgrp"};
  hooks_->forward_debug = debug.value != "cgrp";
  props.push_back(debug);
  auto conf = make_conf(props);
  if (const auto heartbeat = conf_value(conf.get(), "heartbeat.interval.ms"))
    leave_wait_ = std::chrono::milliseconds(std::stoi(*heartbeat) + 500);
  const auto reset = conf_value(conf.get(), "auto.offset.reset");
  reset_earliest_ = reset == "earliest" || reset == "smallest" || reset == "beginning";
  if (def_.cfg.start_from)
    start_from_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                         def_.cfg.start_from->time_since_epoch())
                         .count();
  rd_kafka_conf_set_rebalance_cb(conf.get(), &consumer_group::on_rebalance);
  rd_kafka_conf_set_error_cb(conf.get(), &consumer_group::on_error);
  rd_kafka_conf_set_log_cb(conf.get(), &consumer_group::on_log);
  hooks_->group.store(this);
  rd_kafka_conf_set_opaque(conf.get(), hooks_.get());
  rk_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk_.get());
  if (def_.cfg.guarantee == processing_guarantee::exactly_once) {
    // One transactional producer per consumer (KIP-447): the group metadata
    // sent with the offsets fences zombies. With static membership the id is
    // stable, so a restarted instance aborts its predecessor's open
    // transaction at once; otherwise that transaction times out
    // (transaction.timeout.ms, 10 s unless configured) and holds back
    // read_committed readers of its partitions until then.
    const auto& group = group_id(def_.cfg);
    std::string instance = def_.cfg.group_instance_id;
    if (instance.empty()) {
      std::random_device rd;
      char suffix[17];
      std::snprintf(suffix, sizeof(suffix), "%08x%08x", rd(), rd());
      instance = suffix;
    }
    // A commit waits until every queued record is acknowledged, then the
    // producer idles through EndTxn and the next AddPartitionsToTxn while the
    // partition actors keep outputs (up to 4 MiB each) for the release. A
    // queue three times librdkafka's 100000 records takes a release's outputs
    // without making the actors wait for room, so a transaction carries more
    // records per idle stretch (docs/exactly_once.md, "Two more stalls").
    // 64 MiB of values bound it whatever the record size (librdkafka: 1 GiB);
    // the count binds first below ~220-byte values.
    property_list txn_props{{"", "transaction.timeout.ms", "10000"},
                            {"", "queue.buffering.max.messages", "300000"},
                            {"", "queue.buffering.max.kbytes", "65536"}};
    txn_props.insert(txn_props.end(), producer_props.begin(), producer_props.end());
    txn_producer_ = std::make_unique<shared_producer>(std::move(txn_props), &report_to_tracker,
                                                      "kactor-" + group + "-" + instance);
    producer_ = txn_producer_.get();
    txn_ = std::make_shared<transaction_control>();
  }
  if (def_.cfg.supervision.on_escalation == supervision_policy::escalation_action::leave_group)
    health_->on_escalation = [this] { leave_.store(true, std::memory_order_release); };
  supervisor_ = spawn_supervisor(sys_, def_.cfg.name, def_.cfg.supervision, health_);
  sink_ = std::make_unique<producer_sink>(*producer_);
  dead_letters_ = spawn_dead_letter_actor(sys_, dlq_topic(def_.cfg), *sink_);
}

consumer_group::~consumer_group() {
  stop();
  release_consumer();
}

std::string consumer_group::dlq_topic(const agent_config& cfg) {
  return cfg.supervision.dlq_topic.empty() ? cfg.name + ".dlq" : cfg.supervision.dlq_topic;
}

void consumer_group::start() {
  // Co-partitioned inputs: the group assigns the first input's partitions;
  // each brings partition p of the other inputs with it (assign()).
  const auto subscribed = subscribed_topics();
  auto topics = make_tpl(static_cast<int>(subscribed.size()));
  for (const auto& t : subscribed)
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  started_at_ = std::chrono::steady_clock::now();
  if (auto err = rd_kafka_subscribe(rk_.get(), topics.get()))
    throw kafka_exception(make_error(err, "agent " + def_.cfg.name + ": subscribe"));
  thread_ = std::thread([this] { run(); });
}

void consumer_group::stop() {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);
    thread_.join();
  }
  if (restorer_) restorer_->stop();
  // The stores' directory lock goes with the last task holding the layout.
  stores_.reset();
  if (supervisor_) {
    caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dead_letters_, caf::exit_reason::user_shutdown);
    supervisor_ = supervisor_actor{};
    dead_letters_ = dead_letter_actor{};
  }
}

void consumer_group::run() {
  const bool transactional = txn_ != nullptr;
  // The last transaction (exactly_once) or checkpoint round (at_least_once).
  auto last_cycle = std::chrono::steady_clock::now();
  auto last_look = last_cycle, last_co_check = last_cycle, last_adapt = last_cycle;
  std::uint64_t handled_at_cycle = 0;
  while (!stop_.load(std::memory_order_acquire) && !leave_.load(std::memory_order_acquire)) {
    if (auto* raw = rd_kafka_consumer_poll(rk_.get(), transactional ? 5 : 100)) {
      message_ptr msg{raw};
      if (msg->err)
        log_about(log_level::warn, {def_.cfg.name}, "consumer: {}",
                  rd_kafka_message_errstr(msg.get()));
    }
    auto now = std::chrono::steady_clock::now();
    if (gate_) {
      // Partitions that caught up give their fetch turns to waiting ones;
      // the slots follow what the fetching partitions hold.
      gate_->rotate();
      if (now - last_adapt >= std::chrono::milliseconds(100)) {
        last_adapt = now;
        gate_->adapt();
      }
    }
    if (now - last_look >= std::chrono::seconds(1)) {
      last_look = now;
      look_for_missing_topics();
    }
    if (co_partitioned_ && now - last_co_check >= std::chrono::seconds(5)) {
      last_co_check = now;
      check_co_partitioning();
    }
    // at_least_once: librdkafka commits (enable.auto.commit, see the
    // constructor); stores written enough since are checkpointed after.
    if (!transactional) {
      if (restorer_ && now - last_cycle >= checkpoint_interval_) {
        last_cycle = now;
        for (auto& [tp, task] : assigned_)
          if (task->stores && task->stores->ready()) restorer_->checkpoint(task->stores);
      }
      continue;
    }
    if (txn_->backing_off && now >= backoff_until_ && !broken()) {
      txn_->end_backoff();
      caf::scoped_actor self{sys_};
      release(self);  // the held partition actors take records again
    }
    const auto due =
        broken() ? backoff_.next(failed_recoveries_.load()) : def_.cfg.transaction_interval;
    const auto max_records = def_.cfg.transaction_max_records;
    const bool full = max_records > 0 && !broken() && handled() - handled_at_cycle >= max_records;
    if ((txn_->abort_requested && !broken()) || full || now - last_cycle >= due) {
      handled_at_cycle = max_records > 0 ? handled() : 0;
      transaction_cycle(true);
      last_cycle = std::chrono::steady_clock::now();
    }
  }
  if (leave_.load(std::memory_order_acquire))
    log_about(log_level::error, {def_.cfg.name},
              "leaving group {} after an escalation (on_escalation: leave_group): its "
              "partitions move to the group's other members; this agent stays out until restarted",
              group_id(def_.cfg));
  if (stranded_watch_) stranded_watch_->request_stop();
  close_consumer();
  stranded_watch_.reset();
  assigned_.clear();
}

void consumer_group::on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<consumer_hooks*>(opaque)->group.load();
  if (!self) return;  // a consumer left to the process (release_consumer)
  self->rebalances_.fetch_add(1, std::memory_order_relaxed);
  if (self->leaving_) {
    self->drop(err, parts);
  } else if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->assign(parts);
  } else {
    // A member that dies here, inside a rebalance, leaves its revoked
    // partitions to a rejoin it never makes (exactly_once_chaos_test).
    failpoint("revoke_in_rebalance");
    const auto from = std::chrono::steady_clock::now();
    self->revoke(parts);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - from)
                        .count();
    self->revoke_last_us_.store(us, std::memory_order_relaxed);
    if (us > self->revoke_max_us_.load(std::memory_order_relaxed))
      self->revoke_max_us_.store(us, std::memory_order_relaxed);
  }
}

void consumer_group::wake_held_partitions() {
  // Eager rebalances revoke everything: nothing is held through them.
  if (!cooperative_) return;
  for (auto& [tp, task] : assigned_)
    for (auto& q : task->queues) q->wake_fetcher();
}

std::shared_ptr<partition_counters> consumer_group::counters_for(const topic_partition& tp) {
  std::lock_guard lock(counters_mx_);
  auto& c = counters_[tp];
  if (!c) c = std::make_shared<partition_counters>();
  return c;
}

void consumer_group::assign(rd_kafka_topic_partition_list_t* parts) {
  if (!joined_.exchange(true)) {
    if (!watch_props_.empty())
      stranded_watch_ = std::make_unique<stranded_partition_watch>(
          def_.cfg.name, group_id(def_.cfg), watch_props_, subscribed_topics());
    log_about(log_level::info, {def_.cfg.name},
              "joined group {} {} ms after start (a group's first join waits for the "
              "coordinator: group.initial.rebalance.delay.ms on a broker, a fixed 3000 ms on the "
              "embedded cluster)",
              group_id(def_.cfg),
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started_at_)
                  .count());
  }
  caf::scoped_actor self{sys_};
  // What the consumer is given: every assigned partition and, for
  // co-partitioned inputs, partition p of each other input with it.
  auto given = with_co_partitions(parts);
  // The consumer fetches from there at once; a task with stores seeks
  // there again once restored (below), so both must agree.
  if (start_from_ms_) start_uncommitted(given.get());
  for (int i = 0; i < parts->cnt; ++i) {
    auto tp = to_tp(parts->elems[i]);
    auto task = std::make_unique<assigned_task>(rk_.get(), task_inputs(tp), gate_.get());
    partition_spec spec;
    auto& pc = spec.cfg;
    for (const auto& in : task->inputs) {
      auto counters = counters_for(in);
      counters->assignments.fetch_add(1, std::memory_order_relaxed);
      counters->assigned = true;
      counters->first_offset = -1;
      counters->stored_offset = -1;
      counters->clear_escalation();
      counters->committed_offset = -1;
      pc.inputs.push_back({in, std::move(counters)});
    }
    pc.agent = def_.cfg.name;
    pc.max_poll_records = def_.cfg.max_poll_records;
    pc.resume_below = def_.cfg.resume_below;
    pc.pause_after = def_.cfg.pause_after;
    pc.in_flight_share = &in_flight_.share();
    pc.policy = def_.cfg.supervision;
    pc.dead_letters = dead_letters_;
    pc.tick_every = def_.tick_every;
    pc.factory = def_.factory;
    std::vector<partition_queue*> queues;
    for (auto& q : task->queues) queues.push_back(q.get());
    pc.source = std::make_shared<queue_source>(std::move(queues));
    pc.sink = sink_.get();
    pc.txn = txn_;
    if (def_.cfg.timers || def_.cfg.requests) {
      const auto& topics = def_.cfg.topics;
      auto lane = [&topics](const std::string& t) {
        return static_cast<int>(std::find(topics.begin(), topics.end(), t) - topics.begin());
      };
      pc.timer_lane = lane(timer_topic(def_.cfg));
      if (def_.cfg.requests) pc.reply_lane = lane(reply_topic(def_.cfg));
      // Past the commit that makes a firing record readable (exactly_once).
      pc.timer_refire =
          std::max(std::chrono::milliseconds(10000), 4 * def_.cfg.transaction_interval);
    }
    if (stores_) {
      auto& counters = pc.inputs.front().counters;
      // Restoring from now until the restorer is done (or the task goes).
      counters->restoring = true;
      // Where each input starts once restored: its committed offset, or
      // without one the log's start when the reset policy says so.
      task->stores = std::make_shared<task_stores>(
          stores_, tp.partition, counters,
          [rk = rk_.get(), inputs = task->inputs, earliest = reset_earliest_,
           start_ms = start_from_ms_] {
            std::vector<std::int64_t> at;
            for (const auto& in : inputs) {
              auto o = committed_offset(rk, in.topic, in.partition.value(), 10000);
              if (o < 0 && start_ms) {
                auto one = make_tpl(1);
                rd_kafka_topic_partition_list_add(one.get(), in.topic.c_str(),
                                                  in.partition.value());
                offsets_at_time(rk, one.get(), *start_ms, 10000);
                o = one->elems[0].offset;
              } else if (o < 0 && earliest) {
                o = watermarks(rk, in.topic, in.partition.value(), 10000).first;
              }
              at.push_back(o);
            }
            return at;
          });
      pc.state = task->stores;
      restorer_->restore(task->stores);
    }
    spec.hook = task->hook.get();
    for (auto& q : task->queues) q->on_records(&wake_hook::wake, task->hook.get());
    self->request(supervisor_, caf::infinite, assign_atom::value, std::move(spec))
        .receive([](bool) {},
                 [&](caf::error& err) {
                   log_about(log_level::error, {def_.cfg.name, tp.topic, tp.partition.value()},
                             "supervisor refused the partition: {}", to_string(err));
                 });
    assigned_[tp] = std::move(task);
  }
  in_flight_.divide(assigned_.size());
  rd_kafka_error_t* error = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (cooperative_)
    error = rd_kafka_incremental_assign(rk_.get(), given.get());
  else
    err = rd_kafka_assign(rk_.get(), given.get());
  if (error) {
    error_ptr guard{error};
    log_about(log_level::error, {def_.cfg.name}, "assign: {}", rd_kafka_error_string(error));
  } else if (err) {
    log_about(log_level::error, {def_.cfg.name}, "assign: {}", rd_kafka_err2str(err));
  }
  wake_held_partitions();
  log_about(log_level::info, {def_.cfg.name}, "assigned {} partition(s), holding {}", parts->cnt,
            assigned_.size());
}

void consumer_group::start_uncommitted(rd_kafka_topic_partition_list_t* given) {
  for (int attempt = 1;; ++attempt) {
    try {
      start_uncommitted_at(rk_.get(), given, *start_from_ms_, 10000);
      return;
    } catch (const kafka_exception& e) {
      if (attempt < 3 && e.info().cls == error_class::retriable) continue;
      // Starting anyway (at auto.offset.reset) beats holding the rebalance;
      // the operator sees why in the log and in the agent's health.
      const auto why = "start_from: cannot find the start offsets (" + std::string(e.what()) +
                       "); partitions without a commit start at auto.offset.reset";
      log_about(log_level::error, {def_.cfg.name}, "{}", why);
      health_->fail(why);
      return;
    }
  }
}

void consumer_group::revoke(rd_kafka_topic_partition_list_t* parts, bool commit_offsets) {
  const bool lost = rd_kafka_assignment_lost(rk_.get());
  // exactly_once: the revoked partitions' work commits (or, if they are
  // already someone else's, aborts) before they go.
  if (txn_) {
    if (lost)
      txn_->report({{}, kactor::offset{-1}, {error_class::abortable, 0, "assignment lost"}, 0, {}});
    transaction_cycle(false);
  }
  std::vector<topic_partition> tps;
  for (int i = 0; i < parts->cnt; ++i) tps.push_back(to_tp(parts->elems[i]));
  auto given = with_co_partitions(parts);
  auto commits = make_tpl(given->cnt);
  // Partition actors finish the record in hand and wait for their emits'
  // acknowledgements: every emit has its report within the producer's
  // message.timeout.ms, so a dead broker cannot hang the rebalance forever.
  caf::scoped_actor self{sys_};
  bool stopped = false;
  self->request(supervisor_, producer_->delivery_timeout() + std::chrono::seconds(10),
                revoke_atom::value, tps)
      .receive(
          [&](partition_offsets& r) {
            stopped = true;
            for (auto& [tp, next] : r.offsets)
              if (next.value() >= 0 && !lost && !txn_)
                rd_kafka_topic_partition_list_add(commits.get(), tp.topic.c_str(),
                                                  tp.partition.value())
                    ->offset = next.value();
          },
          [&](caf::error& err) {
            log_about(log_level::error, {def_.cfg.name},
                      "partitions did not stop in time ({}); their unacknowledged "
                      "records will be processed again by the next owner",
                      to_string(err));
          });
  if (commit_offsets && commits->cnt > 0) {
    if (auto err = rd_kafka_commit(rk_.get(), commits.get(), 0))
      log_about(log_level::warn, {def_.cfg.name}, "commit on revoke: {}", rd_kafka_err2str(err));
  }
  for (int i = 0; i < given->cnt; ++i) {
    auto counters = counters_for(to_tp(given->elems[i]));
    counters->revocations.fetch_add(1, std::memory_order_relaxed);
    counters->assigned = false;
  }
  for (const auto& tp : tps) {
    // Stores are checkpointed and closed once their actor stopped; one that
    // did not stop in time keeps them open until it ends (a new assignment's
    // restore then retries until they close).
    if (auto it = assigned_.find(tp); it != assigned_.end() && it->second->stores) {
      if (stopped)
        restorer_->close(it->second->stores);
      else
        it->second->stores->cancel();
    }
    assigned_.erase(tp);
  }
  in_flight_.divide(assigned_.size());
  // The share grew: an actor full at the old one takes again now, not once
  // it finishes a record (one in a retry's backoff may not for a while).
  for (auto& [tp, task] : assigned_) wake_hook::wake(task->hook.get());
  if (cooperative_) {
    if (auto* error = rd_kafka_incremental_unassign(rk_.get(), given.get())) {
      error_ptr guard{error};
      log_about(log_level::error, {def_.cfg.name}, "unassign: {}", rd_kafka_error_string(error));
    }
  } else if (auto err = rd_kafka_assign(rk_.get(), nullptr)) {
    log_about(log_level::error, {def_.cfg.name}, "unassign: {}", rd_kafka_err2str(err));
  }
  if (txn_ && !broken()) {
    caf::scoped_actor self{sys_};
    release(self);
  }
  wake_held_partitions();
  log_about(log_level::info, {def_.cfg.name}, "revoked {} partition(s){}, holding {}", parts->cnt,
            lost ? " (lost)" : "", assigned_.size());
}

agent_stats consumer_group::stats() const {
  agent_stats s;
  s.name = def_.cfg.name;
  s.group = group_id(def_.cfg);
  s.rebalances = rebalances_.load(std::memory_order_relaxed);
  s.last_revoke = std::chrono::microseconds(revoke_last_us_.load(std::memory_order_relaxed));
  s.longest_revoke = std::chrono::microseconds(revoke_max_us_.load(std::memory_order_relaxed));
  s.healthy = health_->healthy.load() && !broken();
  {
    std::lock_guard lock(missing_mx_);
    s.missing_topics = missing_topics_;
  }
  s.ready = s.healthy && s.missing_topics.empty() && joined_.load();
  s.unhealthy_cause = health_->reason();
  if (s.unhealthy_cause.empty() && broken())
    s.unhealthy_cause = "the transactional producer cannot be re-created";
  s.transactions_committed = transactions_committed_.load();
  s.transactions_aborted = transactions_aborted_.load();
  s.producer_resets = producer_resets_.load();
  s.barrier_wait = std::chrono::microseconds(barrier_wait_us_.load());
  s.commit_time = std::chrono::microseconds(commit_time_us_.load());
  commit_latency_.add_to(s.commit_latency);
  s.emitted = producer_->emitted();
  s.delivery_failures = producer_->delivery_failures();
  s.dead_letter_topic = dlq_topic(def_.cfg);
  std::lock_guard lock(counters_mx_);
  for (const auto& [tp, c] : counters_) {
    c->handler_latency.add_to(s.handler_latency);
    partition_stats p;
    p.tp = tp;
    p.assigned = c->assigned.load();
    p.assignments = c->assignments.load();
    p.revocations = c->revocations.load();
    p.processed = c->processed.load();
    p.failed = c->failed.load();
    p.duplicates_dropped = c->duplicates_dropped.load();
    p.late_replies = c->late_replies.load();
    p.in_flight = c->in_flight.load();
    p.max_in_flight = c->max_in_flight.load();
    p.paused = c->paused.load();
    p.pauses = c->pauses.load();
    p.resumes = c->resumes.load();
    p.stored_offset = c->stored_offset.load();
    p.restoring = c->restoring.load();
    p.restored = c->restored.load();
    p.to_restore = c->to_restore.load();
    p.restored_total = c->restored_total.load();
    p.restore_time = std::chrono::microseconds(c->restore_us.load());
    p.committed_offset = c->committed_offset.load();
    if (p.assigned) {
      std::int64_t low = -1, high = -1;
      if (!rd_kafka_get_watermark_offsets(rk_.get(), tp.topic.c_str(), tp.partition.value(), &low,
                                          &high) &&
          high >= 0)
        p.end_offset = high;
    }
    p.retries = c->retries.load();
    p.dead_lettered = c->dead_lettered.load();
    p.warnings_held_back = c->warnings_held_back.load();
    p.restarts = c->restarts.load();
    p.escalated = c->escalated.load();
    p.escalation_cause = c->escalation();
    // A partition whose stores are still restoring handles nothing yet.
    if (p.assigned && p.restoring) s.ready = false;
    s.partitions.push_back(p);
  }
  return s;
}

}  // namespace kactor::detail
