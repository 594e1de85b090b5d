#include "src/kafka/fetch_gate.hpp"

#include <algorithm>
#include <utility>

#include <kactor/log.hpp>

namespace kactor::detail {

void fetch_gate::set(member& m, state s) {
  const auto before = m.state_;
  m.state_ = s;
  if (holds(before) != holds(s)) {
    if (holds(s))
      holders_.push_back(&m);
    else
      holders_.erase(std::find(holders_.begin(), holders_.end(), &m));
    mark();
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
  mark();
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
  mark();
}

void fetch_gate::drop_from_line(member& m) {
  line_.erase(std::find(line_.begin(), line_.end(), &m));
  mark();
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
  mark();
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
  if (m.state_ != state::fetching || !crowded() || !turn_over(m)) return false;
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
  if (!crowded()) return;
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

void fetch_gate::adapt() {
  std::lock_guard lock(mx_);
  if (queue_bytes_ == 0) return;
  std::uint64_t held = 0;
  for (const auto* h : holders_) held += h->queued_bytes();
  const auto before = slots_;
  if (held > queue_bytes_ / 4) {
    shrink(held);
  } else if (held < queue_bytes_ / 16 && !line_.empty()) {
    // Twice as many, holding as much each, stay under an eighth.
    slots_ += std::min(slots_, line_.size());
    grant_free_slots();
    wake_fetcher();
  }
  mark();
  if (slots_ != before)
    log(log_level::debug,
        "fetch gate: {} partitions may fetch at once; those fetching held ~{} KiB", slots_,
        held >> 10);
}

void fetch_gate::shrink(std::uint64_t held) {
  std::vector<std::pair<std::uint64_t, member*>> fetching;
  for (auto* h : holders_)
    if (h->state_ == state::fetching) fetching.emplace_back(h->queued_bytes(), h);
  std::sort(fetching.begin(), fetching.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  auto keep = holders_.size();
  std::size_t stopped = 0;
  for (; stopped < fetching.size() && held > queue_bytes_ / 8 && keep > base_; ++stopped, --keep)
    held -= std::min(held, fetching[stopped].first);
  slots_ = std::max(base_, std::min(slots_, keep));
  // Not at their next take: a slow handler's partition takes seldom, and
  // what it holds meanwhile is what the budget is about.
  for (std::size_t i = 0; i < stopped; ++i) release(*fetching[i].second);
  wake_fetcher();
}

void fetch_gate::mark() {
  contended_.store(crowded(), std::memory_order_relaxed);
}

std::size_t fetch_gate::slots() const {
  std::lock_guard lock(mx_);
  return slots_;
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
