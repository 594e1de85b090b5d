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
  if (!deferring()) {
    deferred_from_ = eos_next_;
    ctx_.deferred_ = &deferred_;
    if (cfg_.state) cfg_.state->seal(deferred_from_);
  }
  barrier_promise_.deliver(deferred_from_);
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
    cfg_.txn->report({cfg_.tp, kactor::offset{-1}, e.info(), wall_ms(), {}});
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

void partition_actor::rewind(const rewind_order& order) {
  bound_.on_dropped(buffer_.size());
  buffer_.clear();
  drop_deferred();
  if (failing_.entry) {
    tracker_->end(failing_.entry);
    failing_ = {};
  }
  for (auto& p : dead_letters_) p.record.token->hold = false;
  dead_letters_.clear();
  waits_.clear(partition_wait::retry);
  next_expected_ = kactor::offset{-1};
  if (cfg_.state) cfg_.state->roll_back(order.to);
  poison_ = order.poison;
  if (order.to.value() >= 0) {
    eos_next_ = order.to;
    cfg_.source->rewind(order.to);
  }
  deferred_from_ = eos_next_;
  publish();
}

}  // namespace kactor::detail
