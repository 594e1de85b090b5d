#include "actors/supervisor.hpp"

#include <algorithm>
#include <map>

#include <caf/all.hpp>
#include <kactor/log.hpp>

#include "actors/retry_policy.hpp"

namespace kactor::detail {

void wake_hook::wake(void* opaque) {
  auto* self = static_cast<wake_hook*>(opaque);
  caf::actor target;
  {
    std::lock_guard lock(self->mx_);
    target = self->actor_;
  }
  if (target) caf::anon_send(target, wake_atom::value);
}

namespace {

struct slot {
  partition_spec spec;
  caf::actor child;
  restart_intensity intensity;
};

class supervisor final : public supervisor_actor::base {
 public:
  supervisor(caf::actor_config& ac, std::string agent, supervision_policy policy,
             std::shared_ptr<agent_health> health)
      : supervisor_actor::base(ac),
        agent_(std::move(agent)),
        policy_(std::move(policy)),
        health_(std::move(health)),
        backoff_(policy_.backoff_base, policy_.backoff_max) {}

  const char* name() const override { return "kactor.supervisor"; }

  behavior_type make_behavior() override {
    set_down_handler([this](caf::down_msg& dm) { on_down(dm); });
    return {
        [this](assign_atom, partition_spec& spec) { return assign(std::move(spec)); },
        [this](revoke_atom, const std::vector<topic_partition>& tps) { return revoke(tps); },
        [this](txn_barrier_atom) { return barrier(); },
        // Barriers, releases and rewinds go to the partition actors at high
        // priority, all of them: CAF orders messages only within a priority,
        // so a normal release would arrive after the next urgent barrier and
        // set the actor running while the group thread commits offsets it
        // already moved past. At high priority they also overtake the
        // actor's own processing ticks. (A typed actor sends to the untyped
        // partition actors anonymously; none of these is answered.)
        [this](txn_release_atom) {
          for (auto& [tp, s] : slots_)
            if (s.child)
              caf::anon_send<caf::message_priority::high>(s.child, txn_release_atom::value);
        },
        [this](const rewind_orders& r) { return rewind(r); },
        [this](restart_atom, const topic_partition& tp) { restart(tp); },
    };
  }

 private:
  bool assign(partition_spec spec) {
    auto key = spec.cfg.inputs.front().tp;
    auto& s = slots_
                  .emplace(std::move(key),
                           slot{std::move(spec), caf::actor{},
                                restart_intensity(policy_.max_restarts, policy_.restart_window)})
                  .first->second;
    start_child(s);
    return true;
  }

  using offsets_promise = caf::typed_response_promise<partition_offsets>;

  /// A running task's actor and its inputs, whose offsets it answers with.
  struct running_task {
    std::vector<task_input> inputs;
    caf::actor child;
  };

  /// Each input's offset in its counters (`stored_offset`, `committed_offset`).
  static void add_offsets(partition_offsets& out, const std::vector<task_input>& inputs,
                          std::atomic<std::int64_t> partition_counters::*which) {
    for (const auto& in : inputs)
      out.offsets.emplace_back(in.tp, kactor::offset{(*in.counters.*which).load()});
  }

  /// Stops the actors of the tasks `tps` name (by their first input) and
  /// answers with the next offsets of all their inputs.
  offsets_promise revoke(const std::vector<topic_partition>& tps) {
    partition_offsets known;
    std::vector<running_task> running;
    for (const auto& tp : tps) {
      auto it = slots_.find(tp);
      if (it == slots_.end()) continue;
      auto child = it->second.child;
      auto inputs = it->second.spec.cfg.inputs;
      slots_.erase(it);
      if (!child) {  // between restarts, or escalated
        add_offsets(known, inputs, &partition_counters::stored_offset);
        continue;
      }
      demonitor(child);
      running.push_back({std::move(inputs), std::move(child)});
    }
    return gather_offsets(
        std::move(known), std::move(running), stop_atom::value,
        [this](partition_offsets& out, const std::vector<task_input>& inputs,
               const caf::error& err) {
          log_about(log_level::error,
                    {agent_, inputs.front().tp.topic, inputs.front().tp.partition.value()},
                    "failed while stopping: {}", to_string(err));
          add_offsets(out, inputs, &partition_counters::stored_offset);
        });
  }

  /// exactly_once: holds every partition actor between records and answers
  /// with their next offsets.
  offsets_promise barrier() {
    partition_offsets known;
    std::vector<running_task> running;
    for (auto& [tp, s] : slots_) {
      if (s.child)
        running.push_back({s.spec.cfg.inputs, s.child});
      else  // between restarts: no progress of its own
        add_offsets(known, s.spec.cfg.inputs, &partition_counters::committed_offset);
    }
    // One that died meanwhile answers -1; the group thread aborts on its report.
    return gather_offsets(
        std::move(known), std::move(running), txn_barrier_atom::value,
        [](partition_offsets& out, const std::vector<task_input>& inputs, const caf::error&) {
          for (const auto& in : inputs) out.offsets.emplace_back(in.tp, kactor::offset{-1});
        });
  }

  /// Sends `what` at high priority to each of `running` and answers the
  /// current request with `known` plus each actor's reply (its inputs' next
  /// offsets) once all replied; for one that fails, `on_error(result,
  /// inputs, error)` adds its inputs' offsets.
  template <class Atom, class OnError>
  offsets_promise gather_offsets(partition_offsets known, std::vector<running_task> running,
                                 Atom what, OnError on_error) {
    auto rp = make_response_promise<partition_offsets>();
    if (running.empty()) {
      rp.deliver(std::move(known));
      return rp;
    }
    auto result = std::make_shared<partition_offsets>(std::move(known));
    auto waiting = std::make_shared<std::size_t>(running.size());
    auto done = [result, waiting, rp]() mutable {
      if (--*waiting == 0) rp.deliver(std::move(*result));
    };
    for (auto& task : running) {
      auto inputs = std::make_shared<const std::vector<task_input>>(std::move(task.inputs));
      request<caf::message_priority::high>(task.child, caf::infinite, what)
          .then(
              [result, done, inputs](const lane_offsets& next) mutable {
                for (std::size_t i = 0; i < inputs->size(); ++i)
                  result->offsets.emplace_back((*inputs)[i].tp, next.next.at(i));
                done();
              },
              [result, done, inputs, on_error](caf::error& err) mutable {
                on_error(*result, *inputs, err);
                done();
              });
    }
    return rp;
  }

  bool rewind(const rewind_orders& r) {
    std::map<topic_partition, const rewind_order*> by_tp;
    for (const auto& [tp, order] : r.orders) by_tp.emplace(tp, &order);
    for (auto& [key, s] : slots_) {
      const auto& inputs = s.spec.cfg.inputs;
      task_rewind order;
      bool any = false;
      for (const auto& in : inputs) {
        auto it = by_tp.find(in.tp);
        any = any || it != by_tp.end();
        order.lanes.push_back(it != by_tp.end() ? *it->second : rewind_order{});
      }
      if (!any) continue;
      if (s.child) {
        caf::anon_send<caf::message_priority::high>(s.child, std::move(order));
        continue;
      }
      // Between restarts: the dead actor's uncommitted store writes go too.
      if (auto& state = s.spec.cfg.state) state->roll_back(order.targets());
      if (inputs.front().counters->escalated) continue;
      for (std::uint32_t lane = 0; lane < order.lanes.size(); ++lane)
        if (order.lanes[lane].to.value() >= 0)
          s.spec.cfg.source->rewind(lane, order.lanes[lane].to);  // and resumes
    }
    return true;
  }

  void restart(const topic_partition& tp) {
    auto it = slots_.find(tp);
    if (it == slots_.end() || it->second.child) return;  // revoked meanwhile
    auto& s = it->second;
    const auto& inputs = s.spec.cfg.inputs;
    for (std::uint32_t lane = 0; lane < inputs.size(); ++lane) {
      const auto& c = *inputs[lane].counters;
      // exactly_once restarts from the last committed transaction; the group
      // thread aborts the open one on the death's report.
      const auto done = s.spec.cfg.txn ? c.committed_offset.load() : c.stored_offset.load();
      auto from = done >= 0 ? done : c.first_offset.load();
      // Records the dead actor held are gone with it: read them again.
      if (from >= 0) s.spec.cfg.source->rewind(lane, kactor::offset{from});
    }
    inputs.front().counters->restarts.fetch_add(1, std::memory_order_relaxed);
    start_child(s);
  }

  void start_child(slot& s) {
    s.child = spawn_partition_actor(system(), s.spec.cfg);
    monitor(s.child);
    s.spec.hook->set(s.child);
    caf::anon_send(s.child, wake_atom::value);  // records may be queued already
  }

  void on_down(caf::down_msg& dm) {
    for (auto& [tp, s] : slots_) {
      if (!s.child || s.child.address() != dm.source) continue;
      s.child = caf::actor{};
      s.spec.hook->set(caf::actor{});
      const auto cause = to_string(dm.reason);
      if (s.spec.cfg.txn)
        s.spec.cfg.txn->report({tp,
                                kactor::offset{-1},
                                {error_class::retriable, 0, "partition actor died: " + cause},
                                0,
                                {}});
      auto& c = *s.spec.cfg.inputs.front().counters;
      const auto& inputs = s.spec.cfg.inputs;
      if (c.escalated) {
        // The actor gave up itself (nothing it must write can be written).
        escalate(tp, s, c.escalation());
      } else if (std::any_of(inputs.begin(), inputs.end(),
                             [](const task_input& in) { return !in.poison->empty(); })) {
        // It ended to hand records over to the DLQ: not a crash, no backoff.
        send(this, restart_atom::value, tp);
      } else if (s.intensity.allow(std::chrono::steady_clock::now())) {
        auto delay = backoff_.next(s.intensity.recent());
        log_about(log_level::warn, {agent_, tp.topic, tp.partition.value()},
                  "partition actor died ({}); restarting in {} ms", cause, delay.count());
        delayed_send(this, delay, restart_atom::value, tp);
      } else {
        escalate(tp, s,
                 "the partition actor died " + std::to_string(s.intensity.recent() + 1) +
                     " times within " + std::to_string(policy_.restart_window.count()) +
                     " ms; last cause: " + cause);
      }
      return;
    }
  }

  /// The partition is paused and the agent unhealthy, once, loudly: until
  /// the partition is assigned again (its next owner reads from the last
  /// committed offset) nothing of it is processed.
  void escalate(const topic_partition& tp, slot& s, const std::string& cause) {
    s.spec.cfg.source->pause();
    s.spec.cfg.inputs.front().counters->escalate(cause);
    health_->fail("partition " + to_string(tp) + ": " + cause);
    log_about(log_level::error, {agent_, tp.topic, tp.partition.value()},
              "the partition escalates: it is paused and the agent unhealthy (on_escalation: {}). "
              "Cause: {}",
              to_string(policy_.on_escalation), cause);
    if (health_->on_escalation) health_->on_escalation();
  }

  std::string agent_;
  supervision_policy policy_;
  std::shared_ptr<agent_health> health_;
  backoff backoff_;
  std::map<topic_partition, slot> slots_;
};

}  // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys, std::string agent,
                                  supervision_policy policy, std::shared_ptr<agent_health> health) {
  return sys.spawn<supervisor>(std::move(agent), std::move(policy), std::move(health));
}

}  // namespace kactor::detail
