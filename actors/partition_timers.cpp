// The partition actor's durable timers and requests. A timer lives in the
// task's store `kactor.timers`; once due, the actor sends a firing record to
// the task's partition of the internal timers topic, and the timer fires
// when that record comes back and is handled: so a firing is a record, and
// its handler's effects commit with it (exactly_once: in one transaction, so
// once). A duplicate firing (sent again after `timer_refire`, or by the
// task's next owner) finds its timer gone and does nothing. Requests keep
// their pending entry in `kactor.requests` and their timeout as a timer;
// replies come in on the reply topic's lane.

#include "actors/partition_actor_impl.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <caf/all.hpp>
#include <kactor/log.hpp>
#include <kactor/reply.hpp>

namespace kactor::detail {

namespace {

/// The headers of a firing record: the timer's name and due time (decimal
/// ms); its key is the timer's key, its value empty.
constexpr std::string_view firing_name_header = "kactor.timer";
constexpr std::string_view firing_due_header = "kactor.timer_due";

/// The longest wait between two timer checks: the timers' clock follows the
/// actor's (steady) clock, so a wall-clock step is caught up on within this.
constexpr std::int64_t max_check_wait_ms = 60000;

std::string firing_id(std::string_view name, std::string_view key, std::int64_t due_ms) {
  std::string id(name);
  id.push_back('\0');
  id.append(key).push_back('\0');
  id += std::to_string(due_ms);
  return id;
}

}  // namespace

void partition_context::schedule(std::string_view name, std::string_view key,
                                 std::chrono::milliseconds delay, std::string_view payload) {
  schedule_at(name, key, self_->timer_now() + delay.count(), payload);
}

void partition_context::schedule(std::string_view name, std::string_view key,
                                 std::chrono::system_clock::time_point at,
                                 std::string_view payload) {
  schedule_at(name, key,
              std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count(),
              payload);
}

void partition_context::schedule_at(std::string_view name, std::string_view key,
                                    std::int64_t due_ms, std::string_view payload) {
  self_->timers().schedule(name, key, due_ms, payload);
  if (self_->firing_pending_ && name == self_->firing_name_ && key == self_->firing_key_)
    self_->firing_pending_ = false;
  self_->arm_timers(due_ms);
}

bool partition_context::cancel(std::string_view name, std::string_view key) {
  if (self_->firing_pending_ && name == self_->firing_name_ && key == self_->firing_key_)
    self_->firing_pending_ = false;
  return self_->timers().cancel(name, key);
}

std::string partition_context::request(std::string_view topic, std::string_view key,
                                       std::string_view value, std::chrono::milliseconds timeout,
                                       const headers& hdrs) {
  auto* a = self_;
  if (!a->requests_)
    throw irrecoverable_error("agent " + agent_ +
                              " makes a request but does not declare requests (agents[].requests: "
                              "true, or agent_builder::requests())");
  const auto now = a->timer_now();
  pending_request r;
  r.correlation_id = fmt::format("{}-{}-{:016x}-{}", agent_, inputs_.front().tp.partition.value(),
                                 a->ids_(), ++a->requests_sent_);
  r.topic = std::string(topic);
  r.key = std::string(key);
  r.value = std::string(value);
  r.sent_ms = now;
  r.deadline_ms = now + timeout.count();
  const auto& reply_to = inputs_[static_cast<std::size_t>(a->cfg_.reply_lane)].tp;
  headers out;
  out.reserve(hdrs.size() + 3);
  out.push_back({std::string(reply_header::correlation_id), r.correlation_id});
  out.push_back({std::string(reply_header::reply_to), reply_to.topic});
  out.push_back(
      {std::string(reply_header::reply_partition), std::to_string(reply_to.partition.value())});
  out.insert(out.end(), hdrs.begin(), hdrs.end());
  // State first: a request that cannot be kept is not sent; one the
  // producer refuses is not kept (at_least_once keeps writes of a failed
  // handler, and its retry asks again under a new id).
  a->requests_->put(r);
  a->timers().schedule(request_timer_name, r.correlation_id, r.deadline_ms, {});
  try {
    emit(topic, key, value, out, partition_id{-1});
  } catch (...) {
    a->requests_->remove(r.correlation_id);
    a->timers_->cancel(request_timer_name, r.correlation_id);
    throw;
  }
  a->arm_timers(r.deadline_ms);
  return std::move(r.correlation_id);
}

timer_table& partition_actor::timers() {
  if (!timers_)
    throw irrecoverable_error("agent " + cfg_.agent +
                              " uses a timer but does not declare timers (agents[].timers: true, "
                              "or agent_builder::timers())");
  return *timers_;
}

std::int64_t partition_actor::timer_now() {
  return wall_base_ms_ +
         std::chrono::duration_cast<std::chrono::milliseconds>(clock().now() - clock_base_).count();
}

void partition_actor::bind_timers() {
  if (cfg_.timer_lane < 0) return;
  if (auto* kv = cfg_.state->find(timer_store_name)) timers_.emplace(*kv);
  if (auto* kv = cfg_.state->find(request_store_name)) requests_.emplace(*kv);
  ids_.seed(std::random_device{}());
  // Timers that fell due while the task had no owner fire now.
  arm_timers(timer_now());
}

void partition_actor::arm_timers(std::int64_t due_ms) {
  if (!timers_ || due_ms >= armed_for_) return;
  armed_for_ = due_ms;
  const auto wait = std::clamp<std::int64_t>(due_ms - timer_now(), 0, max_check_wait_ms);
  delayed_send(this, std::chrono::milliseconds(wait), timer_check_atom::value, ++arming_);
}

void partition_actor::check_timers() {
  armed_for_ = std::numeric_limits<std::int64_t>::max();
  if (stopping() || !timers_) return;
  constexpr std::size_t max_firings_per_check = 1000;
  const auto now = timer_now();
  const auto refire = cfg_.timer_refire.count();
  const auto& out = input(static_cast<std::uint32_t>(cfg_.timer_lane));
  std::int64_t next = now + max_check_wait_ms;
  std::size_t sent = 0;
  headers hdrs(2);
  hdrs[0].key = std::string(firing_name_header);
  hdrs[1].key = std::string(firing_due_header);
  timers_->each([&](const timer& t) {
    if (t.due_ms > now) {
      next = std::min(next, t.due_ms);
      return false;
    }
    auto id = firing_id(t.name, t.key, t.due_ms);
    if (auto it = firings_.find(id); it != firings_.end() && now - it->second < refire) {
      next = std::min(next, it->second + refire);
      return true;
    }
    if (sent == max_firings_per_check) {
      next = now;  // the rest right after this turn
      return false;
    }
    hdrs[0].value = t.name;
    hdrs[1].value = std::to_string(t.due_ms);
    try {
      ctx_.emit(out.topic, t.key, {}, hdrs, out.partition);
    } catch (const kafka_exception& e) {
      warn("cannot send the firing of timer {}/{} yet: {}", t.name, t.key, e.what());
      next = std::min(next, now + 1000);
      return false;
    }
    firings_[std::move(id)] = now;
    ++sent;
    return true;
  });
  // Firings of timers cancelled since, never handled (lost): forgotten.
  for (auto it = firings_.begin(); it != firings_.end();)
    it = now - it->second > 2 * refire ? firings_.erase(it) : std::next(it);
  arm_timers(next);
}

void partition_actor::forget_firings() {
  firings_.clear();
  if (timers_) {
    armed_for_ = std::numeric_limits<std::int64_t>::max();
    arm_timers(timer_now());
  }
}

void partition_actor::deliver(caf::message& msg, const char* what) {
  if (!user_(msg))
    throw irrecoverable_error(std::string("the agent's behaviour has no handler for ") + what);
}

void partition_actor::deliver_internal(const record_slot& slot) {
  if (slot.lane == static_cast<std::uint32_t>(cfg_.timer_lane))
    fire_timer(slot.ev);
  else
    take_reply(slot.ev);
}

namespace {

/// The timer a firing record names: (name, due); throws for a record that is
/// not one (written to the timers topic by something else).
std::pair<std::string_view, std::int64_t> read_firing(const event& firing) {
  const auto name = firing.header(firing_name_header);
  const auto due = firing.header(firing_due_header);
  std::int64_t due_ms = -1;
  if (name && due) std::from_chars(due->data(), due->data() + due->size(), due_ms);
  if (!name || due_ms < 0)
    throw irrecoverable_error("record " + firing.describe() +
                              " on the timers topic is not a timer's firing (it needs headers " +
                              std::string(firing_name_header) + " and " +
                              std::string(firing_due_header) + ")");
  return {*name, due_ms};
}

}  // namespace

void partition_actor::fire_timer(const event& firing) {
  const auto [name, due_ms] = read_firing(firing);
  const auto key = firing.key();
  firings_.erase(firing_id(name, key, due_ms));
  // A duplicate, or a timer cancelled or moved since: nothing to fire.
  auto t = timers().find(name, key, due_ms);
  if (!t) return;
  if (name == request_timer_name) {
    if (auto r = requests_ ? requests_->get(key) : std::nullopt) {
      auto msg = caf::make_message(reply_timeout{std::move(*r)});
      deliver(msg, "kactor::reply_timeout");
      requests_->remove(key);
    }
    timers_->take(name, key, due_ms);
    return;
  }
  // Removed after its handler succeeded (a failed one is retried and finds
  // it again), unless the handler scheduled or cancelled it itself.
  firing_name_ = t->name;
  firing_key_ = t->key;
  firing_pending_ = true;
  auto msg = caf::make_message(std::move(*t));
  try {
    deliver(msg, "kactor::timer");
  } catch (...) {
    firing_pending_ = false;
    throw;
  }
  if (std::exchange(firing_pending_, false)) timers_->take(name, key, due_ms);
}

void partition_actor::take_reply(const event& response) {
  auto id = response.header(reply_header::correlation_id);
  if (!id) id = response.header(reply_header::spring_correlation_id);
  if (!id)
    throw irrecoverable_error("reply " + response.describe() + " has no " +
                              std::string(reply_header::correlation_id) +
                              " header: it answers no request");
  auto r = requests_ ? requests_->get(*id) : std::nullopt;
  if (!r) {
    // Timed out already (or never this agent's): counted and dropped.
    counters(static_cast<std::uint32_t>(cfg_.reply_lane))
        .late_replies.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::string correlation(*id);
  auto msg = caf::make_message(reply{response, std::move(*r)});
  deliver(msg, "kactor::reply");
  requests_->remove(correlation);
  timers().cancel(request_timer_name, correlation);
}

void partition_actor::discard_firing(const event& firing) {
  if (!timers_) return;
  // Its writes are outputs of the dead-lettered record (exactly_once: in
  // its transaction).
  ctx_.current_ = failing_.entry;
  try {
    const auto [name, due_ms] = read_firing(firing);
    if (timers_->take(name, firing.key(), due_ms) && name == request_timer_name && requests_)
      requests_->remove(firing.key());
    ctx_.current_ = nullptr;
  } catch (const std::exception& e) {
    ctx_.current_ = nullptr;
    // Not a firing, or its removal refused: it may fire again, and go here again.
    warn("timer of dead-lettered firing {} not removed: {}", firing.describe(), e.what());
  }
}

}  // namespace kactor::detail
