// Group thread, at the end: leaving the group. A stop that lands while this
// member's JoinGroup or SyncGroup is in flight (a rebalance) waits up to a
// heartbeat interval for it, then leaves without a LeaveGroup rather than
// let librdkafka 2.0.2 wait 5 s for one the coordinator reads only after the
// JoinGroup's answer; and a consumer librdkafka cannot destroy is left to the
// process (docs/design.md, workarounds).

#include "src/group/consumer_group.hpp"

#include <thread>

#include <kactor/log.hpp>

namespace kactor::detail {

void consumer_group::on_log(const rd_kafka_t* rk, int level, const char* facility,
                            const char* text) {
  auto* hooks = static_cast<consumer_hooks*>(rd_kafka_opaque(rk));
  if (level >= 7) {  // LOG_DEBUG
    hooks->join.observe(facility, text);
    if (!hooks->forward_debug) return;
  }
  log_librdkafka(rk, level, facility, text);
}

void consumer_group::close_consumer() {
  const auto& join = hooks_->join;
  // Static members send no LeaveGroup (KIP-345): nothing waits behind a JoinGroup.
  const bool leaves = def_.cfg.group_instance_id.empty();
  const auto blocked = [&] {
    return (leaves && join.request_in_flight()) || (cooperative_ && join.first_sync_pending());
  };
  // While every member is alive, a rebalance completes once all have
  // rejoined, which each does at its next heartbeat. Meanwhile the group's
  // callbacks are served: an assignment that comes is revoked by the close.
  // One bound for the whole stop, the revocation aside.
  const auto deadline = std::chrono::steady_clock::now() + leave_wait_;
  while (blocked() && std::chrono::steady_clock::now() < deadline)
    message_ptr{rd_kafka_consumer_poll(rk_.get(), 10)};
  if (!(leaves && join.request_in_flight())) {
    // Revokes every partition through on_rebalance, which drains the
    // partition actors and commits their offsets (or transaction), then leaves.
    if (auto err = rd_kafka_consumer_close(rk_.get()))
      log_about(log_level::warn, {def_.cfg.name}, "close: {}", rd_kafka_err2str(err));
    return;
  }
  // The rebalance waits for a member that is gone or stuck, possibly until
  // its session times out. This member leaves the same way: the coordinator
  // drops it when its own session times out. Its revocation happens here;
  // a consumer offset commit would also wait behind the JoinGroup, so
  // at_least_once commits none (exactly_once commits through its producer).
  log_about(log_level::warn, {def_.cfg.name},
            "stopping while group {} rebalances and waits for a member: no LeaveGroup "
            "(it would wait behind this member's JoinGroup); the group moves this member's "
            "partitions when its session times out{}",
            group_id(def_.cfg),
            txn_ ? "" : "; records handled since the last offset commit are handled again there");
  // From here on an assignment is taken and dropped at once (on_rebalance).
  leaving_ = true;
  auto held = make_tpl(static_cast<int>(assigned_.size()));
  for (const auto& [tp, task] : assigned_)
    rd_kafka_topic_partition_list_add(held.get(), tp.topic.c_str(), tp.partition.value());
  if (held->cnt > 0) revoke(held.get(), false);
  // The revoked tasks' stores close before the handle their restore reads
  // committed offsets through goes.
  if (restorer_) restorer_->stop();
  destroy_without_close(deadline);
}

void consumer_group::drop(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  // librdkafka leaves its wait for the application only through an
  // assign call with the partitions it handed over.
  error_ptr error;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative_) {
      error.reset(rd_kafka_incremental_assign(rk_.get(), parts));
      if (!error) error.reset(rd_kafka_incremental_unassign(rk_.get(), parts));
    } else if (!rd_kafka_assign(rk_.get(), parts)) {
      rd_kafka_assign(rk_.get(), nullptr);
    }
  } else if (cooperative_) {
    error.reset(rd_kafka_incremental_unassign(rk_.get(), parts));
  } else {
    rd_kafka_assign(rk_.get(), nullptr);
  }
  if (error)
    log_about(log_level::warn, {def_.cfg.name}, "dropping an assignment while leaving: {}",
              rd_kafka_error_string(error.get()));
}

void consumer_group::destroy_without_close(std::chrono::steady_clock::time_point deadline) {
  // librdkafka 2.0.2 never finishes destroying a consumer while an
  // assignment it queued before the destroy waits unserved
  // (scripts/probes/destroy_with_pending_assignment.c). A destroy that
  // starts while no JoinGroup answer is being turned into an assignment
  // cannot meet one: the SyncGroup's answer comes after the termination.
  // Past the stop's deadline (a SyncGroup held for a member that is gone
  // ends in an error, which assigns nothing) the destroy goes ahead.
  auto& join = hooks_->join;
  do {
    message_ptr{rd_kafka_consumer_poll(rk_.get(), join.assignment_may_come() ? 10 : 0)};
  } while (join.assignment_may_come() && std::chrono::steady_clock::now() < deadline);
  if (keep_if_undestroyable()) return;
  hooks_->group.store(nullptr);
  // Destroyed on a thread of its own, watched: if an assignment came in
  // between all the same, the handle is left to the process.
  auto hooks = hooks_;
  std::thread destroyer([rk = rk_.release(), hooks] {
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    hooks->join.destroyed();
  });
  if (join.await_destroy()) {
    destroyer.join();
    return;
  }
  destroyer.detach();
  log_about(log_level::warn, {def_.cfg.name},
            "an assignment reached the consumer as it was destroyed; librdkafka 2.0.2 cannot "
            "finish destroying it, so its handle (and a busy librdkafka thread) stays until the "
            "process exits");
}

bool consumer_group::keep_if_undestroyable() {
  if (topic_deleted_)
    // librdkafka 2.0.2 never finishes destroying a consumer one of whose
    // topics was deleted while it consumed (its threads wait forever:
    // scripts/probes/destroy_after_topic_deletion.c).
    log_about(log_level::warn, {def_.cfg.name},
              "a consumed topic was deleted while running; librdkafka 2.0.2 cannot destroy "
              "such a consumer, so its (closed) handle stays until the process exits");
  else if (cooperative_ && hooks_->join.first_sync_pending())
    log_about(log_level::warn, {def_.cfg.name},
              "stopped between its first JoinGroup answer and its first assignment; "
              "librdkafka 2.0.2 aborts the process when such a consumer is destroyed (librdkafka "
              "#4312), so its handle stays until the process exits");
  else
    return false;
  hooks_->group.store(nullptr);
  (void)rk_.release();
  // The handle's callbacks reach its hooks until the process exits.
  (void)new std::shared_ptr<consumer_hooks>(std::move(hooks_));
  return true;
}

void consumer_group::release_consumer() {
  // Destroyed when it left without a close (destroy_without_close).
  if (!rk_ || keep_if_undestroyable()) return;
  rk_.reset();
}

}  // namespace kactor::detail
