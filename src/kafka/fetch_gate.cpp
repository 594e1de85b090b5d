#include "src/kafka/fetch_gate.hpp"

#include <algorithm>
#include <utility>

namespace kactor::detail {

void fetch_gate::set(member& m, state s) {
  const auto before = m.state_;
  m.state_ = s;
  if (holds(before) != holds(s)) {
    if (holds(s))
      holders_.push_back(&m);
    else
      holders_.erase(std::find(holders_.begin(), holders_.end(), &m));
  }
  const bool was = before == state::fetching, is = s == state::fetching;
  if (was == is) return;
  if (is) {
    m.caught_up_.store(false, std::memory_order_relaxed);
    m.turn_began_.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  m.fetching_.store(is, std::memory_order_relaxed);
  if (!m.fetch(is) && is) needs_wake_ = true;
}

void fetch_gate::wake_fetcher() {
  if (!std::exchange(needs_wake_, false)) return;
  for (auto it = line_.rbegin(); it != line_.rend(); ++it)
    if ((*it)->nudge()) return;
}

void fetch_gate::enter(member& m) {
  if (holders_.size() < slots_ && line_.empty()) {
    set(m, state::fetching);
    return;
  }
  set(m, state::waiting);
  line_.push_back(&m);
  waiting_.store(line_.size(), std::memory_order_relaxed);
}

void fetch_gate::release(member& m) {
  set(m, state::idle);
  if (m.wants_) enter(m);
  grant_free_slots();
}

void fetch_gate::grant_free_slots() {
  while (holders_.size() < slots_ && !line_.empty()) {
    auto* next = line_.front();
    line_.pop_front();
    set(*next, state::fetching);
  }
  waiting_.store(line_.size(), std::memory_order_relaxed);
}

void fetch_gate::drop_from_line(member& m) {
  line_.erase(std::find(line_.begin(), line_.end(), &m));
  waiting_.store(line_.size(), std::memory_order_relaxed);
}

void fetch_gate::join(member& m) {
  std::lock_guard lock(mx_);
  m.wants_ = true;
  m.state_ = state::idle;
  // librdkafka starts fetching an assigned partition by itself: one that
  // fetches is resumed (a no-op unless a pause of an earlier assignment is
  // left), one that waits is paused now.
  enter(m);
  if (m.state_ == state::waiting) m.fetch(false);
  wake_fetcher();
}

void fetch_gate::leave(member& m) {
  std::lock_guard lock(mx_);
  m.wants_ = false;
  if (m.state_ == state::waiting) drop_from_line(m);
  if (holds(m.state_)) holders_.erase(std::find(holders_.begin(), holders_.end(), &m));
  m.state_ = state::outside;
  m.fetching_.store(false, std::memory_order_relaxed);
  grant_free_slots();
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
      if (!wants) stop(m, holding);
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
  if (m.state_ != state::fetching || line_.empty() || !turn_over(m)) return false;
  stop(m, holding);
  wake_fetcher();
  return true;
}

void fetch_gate::stop(member& m, bool holding) {
  if (holding)
    set(m, state::draining);
  else
    release(m);  // to the line's end if it wants to fetch, behind those waiting
}

void fetch_gate::rotate() {
  std::lock_guard lock(mx_);
  if (line_.empty()) return;
  const auto now = clock::now().time_since_epoch().count();
  const auto holders = holders_;  // release() changes holders_
  for (auto* h : holders) {
    const auto active = std::max(h->turn_began_.load(std::memory_order_relaxed),
                                 h->last_take_.load(std::memory_order_relaxed));
    const bool stalled = now - active >= stall_.count();
    const bool caught_up =
        h->state_ == state::fetching && h->caught_up_.load(std::memory_order_relaxed);
    if (turn_over(*h) && (stalled || caught_up))
      release(*h);  // to the line's end; its slot to the line's first
  }
  wake_fetcher();
}

std::size_t fetch_gate::fetching_count() const {
  std::lock_guard lock(mx_);
  return static_cast<std::size_t>(
      std::count_if(holders_.begin(), holders_.end(),
                    [](const member* m) { return m->state_ == state::fetching; }));
}

std::size_t fetch_gate::waiting_count() const {
  std::lock_guard lock(mx_);
  return line_.size();
}

}  // namespace kactor::detail
