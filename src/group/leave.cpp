// Group thread, at the end: leaving the group. A stop that lands while this
// member's JoinGroup or SyncGroup is in flight (a rebalance) waits up to a
// heartbeat interval for it, then leaves without a LeaveGroup rather than
// let librdkafka 2.0.2 wait 5 s for one the coordinator reads only after the
// JoinGroup's answer; and a consumer librdkafka cannot destroy is left to the
// process (docs/design.md, workarounds).

#include "src/group/consumer_group.hpp"

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
  auto held = make_tpl(static_cast<int>(assigned_.size()));
  for (const auto& [tp, task] : assigned_)
    rd_kafka_topic_partition_list_add(held.get(), tp.topic.c_str(), tp.partition.value());
  if (held->cnt > 0) revoke(held.get(), false);
  destroy_without_close_ = true;
}

void consumer_group::release_consumer() {
  const bool destroy_aborts = cooperative_ && hooks_->join.first_sync_pending();
  if (topic_deleted_ || destroy_aborts) {
    if (topic_deleted_)
      // librdkafka 2.0.2 never finishes destroying a consumer one of whose
      // topics was deleted while it consumed (its threads wait forever:
      // scripts/probes/destroy_after_topic_deletion.c).
      log_about(log_level::warn, {def_.cfg.name},
                "a consumed topic was deleted while running; librdkafka 2.0.2 cannot destroy "
                "such a consumer, so its (closed) handle stays until the process exits");
    else
      log_about(log_level::warn, {def_.cfg.name},
                "stopped between its first JoinGroup answer and its first assignment; "
                "librdkafka 2.0.2 aborts the process when such a consumer is destroyed (librdkafka "
                "#4312), so its handle stays until the process exits");
    hooks_->group.store(nullptr);
    (void)rk_.release();
    (void)hooks_.release();
    return;
  }
  if (destroy_without_close_)
    rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  rk_.reset();
}

}  // namespace kactor::detail
