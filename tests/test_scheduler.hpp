#pragma once
// A CAF actor system on CAF's deterministic test scheduler, for the actor
// tests (partition actor, supervisor): messages run when a test says so and
// time moves only when it advances it, so no test sleeps. `supervised` adds
// an agent's supervisor and dead-letter actor.

#include <memory>

#include <caf/all.hpp>

#include "actors/supervisor.hpp"

namespace kactor::test {

struct test_scheduler {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;

  test_scheduler() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }
};

/// An agent's supervisor and its dead-letter actor (writing to "dlq"),
/// started by `supervise`. A fixture calls `end_supervision` in its own
/// destructor: the actors may still use its members (the sink, the source)
/// until they are gone.
struct supervised : test_scheduler {
  detail::supervisor_actor sup;
  detail::dead_letter_actor dead_letters;

  void supervise(const supervision_policy& policy, std::shared_ptr<detail::agent_health> health,
                 detail::emit_sink& sink) {
    sup = detail::spawn_supervisor(*sys, "agent", policy, std::move(health));
    dead_letters = detail::spawn_dead_letter_actor(*sys, "dlq", sink);
    sched->run();
  }

  void end_supervision() {
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dead_letters, caf::exit_reason::user_shutdown);
    sched->run();
  }
};

}  // namespace kactor::test
