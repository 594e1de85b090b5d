// The agent supervisor with a task of two inputs (an agent with stores and
// two co-partitioned topics), on CAF's deterministic scheduler: a restart
// rewinds each input to its own stored offset, revocation and exactly_once
// barriers answer for every input, and a rewind order reaches each input.

#include "actors/supervisor.hpp"
#include "tests/test_scheduler.hpp"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <caf/all.hpp>

namespace {

using namespace kactor;
using namespace kactor::detail;
using crash_atom = caf::atom_constant<caf::atom("crash")>;

/// Two inputs: lane 0 holds offsets [0, end[0]), lane 1 [0, end[1]); takes
/// alternate between them.
class two_input_source final : public partition_source {
 public:
  std::size_t take(std::size_t max, std::deque<record_slot>& out) override {
    std::size_t n = 0;
    while (n < max && (next[0] < end[0] || next[1] < end[1])) {
      for (std::uint32_t lane = 0; lane < 2 && n < max; ++lane) {
        if (next[lane] >= end[lane]) continue;
        out.push_back(record_slot{event{lane == 0 ? "a" : "b", partition_id{2},
                                        kactor::offset{next[lane]++}, 0, "k", "v"},
                                  {nullptr, [](void*) {}},
                                  {},
                                  lane});
        ++n;
      }
    }
    return n;
  }
  bool has_backlog() override { return next[0] < end[0] || next[1] < end[1]; }
  void pause() override {}
  void resume() override {}
  void store(std::uint32_t lane, kactor::offset n) override { stored[lane] = n.value(); }
  void rewind(std::uint32_t lane, kactor::offset n) override {
    rewinds[lane].push_back(n.value());
    next[lane] = n.value();
  }
  std::int64_t next[2] = {0, 0}, end[2] = {3, 2}, stored[2] = {-1, -1};
  std::vector<std::int64_t> rewinds[2];
};

/// Acknowledges every output at once.
class acking_sink final : public emit_sink {
 public:
  void emit(std::string_view, partition_id, std::string_view, std::string_view, const headers&,
            delivery_tracker::entry* token) override {
    if (token) delivery_tracker::delivered(token, 0);
  }
  bool saturated() const override { return false; }
  void when_room(std::function<void()> wake) override { wake(); }
};

struct supervisor_tasks : ::testing::Test, test::supervised {
  acking_sink sink;
  std::shared_ptr<two_input_source> source = std::make_shared<two_input_source>();
  std::shared_ptr<partition_counters> a = std::make_shared<partition_counters>();
  std::shared_ptr<partition_counters> b = std::make_shared<partition_counters>();
  wake_hook hook;
  caf::event_based_actor* child = nullptr;
  std::vector<std::string> handled;
  supervision_policy policy;
  std::shared_ptr<transaction_control> txn;  // set before assign() for exactly_once

  supervisor_tasks() {
    policy.backoff_base = std::chrono::milliseconds(100);
    policy.backoff_max = std::chrono::milliseconds(100);
    supervise(policy, std::make_shared<agent_health>(), sink);
  }
  ~supervisor_tasks() override { end_supervision(); }

  void assign() {
    partition_spec spec;
    spec.cfg.agent = "agent";
    spec.cfg.inputs = {{topic_partition{"a", partition_id{2}}, a},
                       {topic_partition{"b", partition_id{2}}, b}};
    spec.cfg.max_poll_records = 10;
    spec.cfg.factory = [this](context& ctx) -> caf::behavior {
      child = ctx.self();
      return {[this, &ctx](const event& e) {
                handled.push_back(std::string(e.topic()) + std::to_string(e.offset().value()));
                ctx.emit("out", "k", "v");
              },
              [](crash_atom) { throw std::runtime_error("state corrupted"); }};
    };
    spec.cfg.source = source;
    spec.cfg.sink = &sink;
    spec.cfg.dead_letters = dead_letters;
    spec.cfg.policy = policy;
    spec.cfg.txn = txn;
    spec.hook = &hook;
    caf::anon_send(sup, assign_atom::value, std::move(spec));
    sched->run();
  }

  /// What the supervisor answers to `what`, by input partition.
  template <class... Ts>
  std::map<std::string, std::int64_t> ask(Ts... what) {
    std::map<std::string, std::int64_t> out;
    auto probe = sys->spawn([&](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, what...).then([&](partition_offsets& r) {
        for (auto& [tp, next] : r.offsets) out[tp.topic] = next.value();
      });
    });
    sched->run();
    return out;
  }
};

TEST_F(supervisor_tasks, a_restart_rewinds_each_input_to_its_own_stored_offset) {
  assign();
  EXPECT_EQ(handled, (std::vector<std::string>{"a0", "b0", "a1", "b1", "a2"}));
  EXPECT_EQ(source->stored[0], 3);
  EXPECT_EQ(source->stored[1], 2);
  source->end[0] = 4;
  source->end[1] = 3;
  caf::anon_send(caf::actor_cast<caf::actor>(child), crash_atom::value);
  sched->run();
  sched->advance_time(policy.backoff_max);
  sched->run();
  EXPECT_EQ(source->rewinds[0], (std::vector<std::int64_t>{3}));
  EXPECT_EQ(source->rewinds[1], (std::vector<std::int64_t>{2}));
  EXPECT_EQ(handled.size(), 7u) << "the new records of both inputs, once";
  EXPECT_EQ(a->restarts.load(), 1u) << "the task's figures are on its first input";
  const auto revoked =
      ask(revoke_atom::value, std::vector<topic_partition>{{"a", partition_id{2}}});
  EXPECT_EQ(revoked, (std::map<std::string, std::int64_t>{{"a", 4}, {"b", 3}}))
      << "revoking the task (named by its first input) answers for both inputs";
}

TEST_F(supervisor_tasks, exactly_once_barriers_and_rewinds_cover_every_input) {
  txn = std::make_shared<transaction_control>();
  assign();
  const auto barrier = ask(txn_barrier_atom::value);
  EXPECT_EQ(barrier, (std::map<std::string, std::int64_t>{{"a", 3}, {"b", 2}}));
  a->committed_offset = 3;
  b->committed_offset = 2;
  caf::anon_send(sup, txn_release_atom::value);
  sched->run();
  // An abort sends each input back to its own position (as the group
  // thread's rewind_all does: input a to 1, b to its committed 2).
  rewind_orders orders;
  rewind_order to_one, to_two;
  to_one.to = kactor::offset{1};
  to_two.to = kactor::offset{2};
  orders.orders.emplace_back(topic_partition{"b", partition_id{2}}, to_two);
  orders.orders.emplace_back(topic_partition{"a", partition_id{2}}, to_one);
  auto probe = sys->spawn([&](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, orders).then([](bool) {});
  });
  sched->run();
  EXPECT_EQ(source->rewinds[0], (std::vector<std::int64_t>{1}));
  EXPECT_EQ(source->rewinds[1], (std::vector<std::int64_t>{2}));
  caf::anon_send(caf::actor_cast<caf::actor>(child), wake_atom::value);  // the queue's wake
  sched->run();
  EXPECT_EQ(handled, (std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "a1", "a2"}))
      << "input a read again from 1, b from 2 (nothing left)";
  EXPECT_EQ(ask(txn_barrier_atom::value),
            (std::map<std::string, std::int64_t>{{"a", 3}, {"b", 2}}));
}

}  // namespace
