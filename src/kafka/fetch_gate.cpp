#include "src/kafka/fetch_gate.hpp"

#include <algorithm>
#include <utility>

namespace kactor::detail {

void fetch_gate::set(member& m, state s) {
  const bool was = m.state_ == state::fetching, is = s == state::fetching;
  m.state_ = s;
  if (was == is) return;
  if (is)
    fetching_.push_back(&m);
  else
    fetching_.erase(std::find(fetching_.begin(), fetching_.end(), &m));
  m.fetching_.store(is, std::memory_order_relaxed);
  if (!m.fetch(is) && is) needs_wake_ = true;
}

void fetch_gate::wake_fetcher() {
  if (!std::exchange(needs_wake_, false)) return;
  for (auto it = line_.rbegin(); it != line_.rend(); ++it)
    if ((*it)->nudge()) return;
}

void fetch_gate::enter(member& m) {
  if (held_ < slots_ && line_.empty()) {
    ++held_;
    set(m, state::fetching);
    return;
  }
  set(m, state::waiting);
  line_.push_back(&m);
  waiting_.store(line_.size(), std::memory_order_relaxed);
  preempt_caught_up();
}

void fetch_gate::release(member& m) {
  --held_;
  set(m, state::idle);
  if (m.wants_) enter(m);
  grant_free_slots();
}

void fetch_gate::grant_free_slots() {
  while (held_ < slots_ && !line_.empty()) {
    auto* next = line_.front();
    line_.pop_front();
    ++held_;
    next->caught_up_.store(false, std::memory_order_relaxed);
    set(*next, state::fetching);
  }
  waiting_.store(line_.size(), std::memory_order_relaxed);
}

void fetch_gate::preempt_caught_up() {
  if (line_.empty()) return;
  for (auto* f : fetching_)
    if (f->caught_up_.load(std::memory_order_relaxed)) {
      // It has nothing fetched to drain: its slot goes to the line's first,
      // and it waits behind the others (no further preemption from here).
      --held_;
      set(*f, state::idle);
      if (f->wants_) {
        f->state_ = state::waiting;
        line_.push_back(f);
      }
      grant_free_slots();
      return;
    }
}

void fetch_gate::drop_from_line(member& m) {
  line_.erase(std::find(line_.begin(), line_.end(), &m));
  waiting_.store(line_.size(), std::memory_order_relaxed);
}

void fetch_gate::join(member& m) {
  std::lock_guard lock(mx_);
  m.wants_ = true;
  // librdkafka starts fetching an assigned partition by itself: say which
  // it is to do, whatever the gate decides.
  m.state_ = state::idle;
  m.fetching_.store(true, std::memory_order_relaxed);
  if (held_ < slots_ && line_.empty()) {
    ++held_;
    m.state_ = state::fetching;
    fetching_.push_back(&m);
    m.fetch(true);  // librdkafka's assignment starts it
    return;
  }
  m.fetching_.store(false, std::memory_order_relaxed);
  m.fetch(false);
  m.state_ = state::waiting;
  line_.push_back(&m);
  waiting_.store(line_.size(), std::memory_order_relaxed);
  preempt_caught_up();
  wake_fetcher();
}

void fetch_gate::leave(member& m) {
  std::lock_guard lock(mx_);
  m.wants_ = false;
  switch (m.state_) {
    case state::waiting:
      drop_from_line(m);
      break;
    case state::fetching:
      fetching_.erase(std::find(fetching_.begin(), fetching_.end(), &m));
      [[fallthrough]];
    case state::draining:
      --held_;
      grant_free_slots();
      break;
    default:
      break;
  }
  m.state_ = state::outside;
  m.fetching_.store(false, std::memory_order_relaxed);
  wake_fetcher();
}

void fetch_gate::update(member& m, bool wants, bool holding) {
  std::lock_guard lock(mx_);
  if (m.state_ == state::outside) return;
  m.wants_ = wants;
  switch (m.state_) {
    case state::idle:
      if (wants) enter(m);
      break;
    case state::waiting:
      if (!wants) {
        drop_from_line(m);
        m.state_ = state::idle;
      }
      break;
    case state::fetching:
      if (wants) break;
      if (holding)
        set(m, state::draining);
      else
        release(m);
      break;
    case state::draining:
      if (!holding) release(m);
      break;
    case state::outside:
      break;
  }
  wake_fetcher();
}

bool fetch_gate::end_turn(member& m, bool holding) {
  std::lock_guard lock(mx_);
  if (m.state_ != state::fetching || line_.empty()) return false;
  if (holding)
    set(m, state::draining);
  else
    release(m);  // to the line's end, behind those waiting
  wake_fetcher();
  return true;
}

std::size_t fetch_gate::fetching_count() const {
  std::lock_guard lock(mx_);
  return fetching_.size();
}

std::size_t fetch_gate::waiting_count() const {
  std::lock_guard lock(mx_);
  return line_.size();
}

}  // namespace kactor::detail
