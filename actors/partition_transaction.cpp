// The partition actor as an exactly_once participant: it answers the group
// thread's transaction barrier, keeps the outputs of records it handles while
// the commit runs, hands them over on the release, and reads again from the
// committed offset when the transaction aborted.

#include "actors/partition_actor_impl.hpp"

#include <algorithm>
#include <utility>

#include <caf/all.hpp>

namespace kactor::detail {

void partition_actor::on_barrier() {
  // Failures already reported by the producer go into this answer's
  // transaction cycle (the acknowledgements may still be queued behind this
  // urgent message).
  on_acked();
  if (ended()) return;
  waits_.set(partition_wait::barrier);
  barrier_promise_ = make_response_promise();
  answer_barrier();
}

void partition_actor::answer_barrier() {
  if (!waiting(partition_wait::barrier) || !barrier_promise_.pending() ||
      dead_letter_requests_ > 0 || handing_over())
    return;
  lane_offsets answer;
  answer.next.reserve(lanes_.size());
  for (auto& lane : lanes_) {
    if (!deferring()) lane.deferred_from = lane.eos_next;
    answer.next.push_back(lane.deferred_from);
  }
  if (!deferring()) {
    ctx_.deferred_ = &deferred_;
    if (cfg_.state) cfg_.state->seal(answer);
  }
  barrier_promise_.deliver(std::move(answer));
  waits_.clear(partition_wait::barrier);
  schedule();
}

void partition_actor::end_deferral() {
  if (!deferring()) return;
  if (cfg_.state) cfg_.state->commit_sealed();
  ctx_.deferred_ = nullptr;
  handed_ = 0;
  for (auto& p : dead_letters_)
    if (p.due) send_dead_letter(p);
  if (!deferred_.empty()) hand_over_one();
  finish_hand_over();
}

void partition_actor::hand_over(clock_type::time_point deadline) {
  constexpr std::size_t check_every = 512;  // outputs between two looks at the queue
  while (handing_over()) {
    if (cfg_.sink->saturated()) {
      wait_for_room();
      return;
    }
    const auto end = std::min(deferred_.size(), handed_ + check_every);
    while (handed_ < end && handing_over()) hand_over_one();
    if (clock_type::now() >= deadline) break;
  }
  finish_hand_over();
}

void partition_actor::hand_over_one() {
  const auto d = deferred_[handed_];
  try {
    cfg_.sink->emit(d.topic, d.partition, d.key, d.value, d.hdrs, d.token);
    ++handed_;
  } catch (const kafka_exception& e) {
    // As a producer error inside a handler: the transaction fails, not a
    // record. The group thread aborts and rewinds.
    drop_deferred();
    waits_.set(partition_wait::retry);
    cfg_.txn->report({input(), kactor::offset{-1}, e.info(), wall_ms(), {}});
  }
}

void partition_actor::finish_hand_over() {
  if (deferring() || handing_over()) return;
  deferred_.clear();
  handed_ = 0;
  answer_barrier();
}

void partition_actor::drop_deferred() {
  for (auto i = handed_; i < deferred_.size(); ++i)
    if (auto* token = deferred_[i].token) tracker_->cancel_emit(token);
  deferred_.clear();
  handed_ = 0;
}

void partition_actor::rewind(const task_rewind& order) {
  drop_buffer();
  drop_deferred();
  if (failing_.entry) {
    tracker_->end(failing_.entry);
    failing_ = {};
  }
  for (auto& p : dead_letters_) p.record.token->hold = false;
  dead_letters_.clear();
  waits_.clear(partition_wait::retry);
  if (cfg_.state) cfg_.state->roll_back(order.targets());
  for (std::uint32_t i = 0; i < lanes_.size(); ++i) {
    auto& lane = lanes_[i];
    const auto& o = order.lanes.at(i);
    lane.next_expected = kactor::offset{-1};
    lane.poison = o.poison;
    if (o.to.value() >= 0) {
      lane.eos_next = o.to;
      cfg_.source->rewind(i, o.to);
    }
    lane.deferred_from = lane.eos_next;
  }
  forget_firings();
  publish();
}

}  // namespace kactor::detail
