// A partition actor's timers and requests on CAF's deterministic test
// scheduler (virtual time): a timer's firing record goes out only once it is
// due, and the timer fires when that record comes back; a request gets
// exactly one of its reply and its timeout, whichever is handled first, and
// a reply after the timeout is counted and dropped. The task's three lanes:
// its input, the timers topic, the reply topic (fed back by hand here, as
// Kafka would).

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <kactor/reply.hpp>
#include <kactor/timer.hpp>

#include "actors/request_table.hpp"
#include "actors/timer_table.hpp"
#include "tests/memory_store.hpp"
#include "tests/partition_actor_fixture.hpp"

namespace kactor::test {
namespace {

using namespace std::chrono_literals;

/// Records by lane, handed out in the order they were added.
class lane_source final : public partition_source {
 public:
  struct record {
    std::uint32_t lane;
    std::string topic, key, value;
    headers hdrs;
    std::int64_t offset;
  };
  void add(std::uint32_t lane, std::string topic, std::string key, std::string value,
           headers hdrs = {}) {
    all.push_back({lane, std::move(topic), std::move(key), std::move(value), std::move(hdrs),
                   next_offset[lane]++});
    waiting.push_back(&all.back());
  }
  std::size_t take(std::size_t max, std::deque<record_slot>& out) override {
    std::size_t n = 0;
    for (; n < max && !waiting.empty(); ++n) {
      const auto* r = waiting.front();
      waiting.pop_front();
      out.push_back(record_slot{event{r->topic, partition_id{2}, kactor::offset{r->offset}, 0,
                                      r->key, r->value, nullptr, &r->hdrs},
                                {nullptr, [](void*) {}},
                                {},
                                r->lane});
    }
    return n;
  }
  bool has_backlog() override { return !waiting.empty(); }
  void pause() override {}
  void resume() override {}
  void store(std::uint32_t, kactor::offset) override {}
  void rewind(std::uint32_t, kactor::offset) override {}

  std::deque<record> all;  // stable: events point into it
  std::deque<const record*> waiting;
  std::int64_t next_offset[3] = {0, 0, 0};
};

/// A task's stores in memory, restored from the start.
class memory_state final : public task_state {
 public:
  kv_store* find(std::string_view name) override {
    if (name == timer_store_name) return &timers;
    if (name == request_store_name) return &requests;
    return nullptr;
  }
  std::string names() const override { return "kactor.timers, kactor.requests"; }
  void bind(changelog_emit) override {}
  bool ready() const override { return true; }
  void when_ready(std::function<void()> wake) override { wake(); }
  kactor::offset resume_at(std::uint32_t) const override { return kactor::offset{-1}; }
  void seal(const lane_offsets&) override {}
  void commit_sealed() override {}
  void roll_back(const lane_offsets&) override {}

  memory_store timers{std::string(timer_store_name)};
  memory_store requests{std::string(request_store_name)};
};

struct timers_fixture : fixture {
  std::shared_ptr<lane_source> src = std::make_shared<lane_source>();
  std::shared_ptr<memory_state> state = std::make_shared<memory_state>();
  std::shared_ptr<partition_counters> reply_counters = std::make_shared<partition_counters>();
  std::vector<std::string> seen;  // what the behaviour received

  caf::actor spawn_task(behavior_factory f) {
    partition_actor_config pc;
    pc.agent = "asker";
    pc.inputs = {
        {topic_partition{"in", partition_id{2}}, counters},
        {topic_partition{"asker-timers", partition_id{2}}, std::make_shared<partition_counters>()},
        {topic_partition{"asker.replies", partition_id{2}}, reply_counters}};
    pc.timer_lane = 1;
    pc.reply_lane = 2;
    pc.max_poll_records = 100;
    pc.factory = std::move(f);
    pc.source = src;
    pc.sink = &sink;
    pc.dead_letters = dead_letters;
    pc.state = state;
    auto a = spawn_partition_actor(*sys, std::move(pc));
    sched->run();
    return a;
  }

  void wake(const caf::actor& a) {
    caf::anon_send(a, wake_atom::value);
    sched->run();
  }

  /// The records sent to `topic` so far.
  std::vector<fake_sink::sent_record> sent_to(const std::string& topic) const {
    std::vector<fake_sink::sent_record> out;
    for (const auto& r : sink.sent)
      if (r.topic == topic) out.push_back(r);
    return out;
  }

  /// Feeds the firing records sent since `from` back on the timers lane.
  std::size_t loop_back_firings(std::size_t from) {
    std::size_t n = 0;
    for (auto i = from; i < sink.sent.size(); ++i)
      if (sink.sent[i].topic == "asker-timers") {
        src->add(1, "asker-timers", sink.sent[i].key, sink.sent[i].value, sink.sent[i].hdrs);
        ++n;
      }
    return n;
  }
};

TEST_F(timers_fixture, a_timer_fires_once_due_on_the_actor_clock_when_its_firing_comes_back) {
  auto a = spawn_task([this](context& ctx) -> caf::behavior {
    return {
        [&ctx](const event& e) { ctx.schedule("remind", e.key(), 5s, "pay"); },
        [this](const timer& t) { seen.push_back(t.name + "/" + t.key + "=" + t.payload); },
    };
  });
  src->add(0, "in", "order-1", "");
  wake(a);
  EXPECT_TRUE(sent_to("asker-timers").empty());
  sched->advance_time(4900ms);
  sched->run();
  EXPECT_TRUE(sent_to("asker-timers").empty()) << "not due yet";
  sched->advance_time(100ms);
  sched->run();
  ASSERT_EQ(sent_to("asker-timers").size(), 1u) << "due: its firing record goes out";
  EXPECT_EQ(sent_to("asker-timers")[0].key, "order-1");
  EXPECT_TRUE(seen.empty()) << "it fires when the firing record is handled, not before";
  ASSERT_EQ(loop_back_firings(0), 1u);
  // The same firing delivered twice (a refire, a duplicate): fires once.
  loop_back_firings(0);
  wake(a);
  EXPECT_EQ(seen, std::vector<std::string>{"remind/order-1=pay"});
  EXPECT_TRUE(state->timers.data.empty()) << "a fired timer is removed";
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(timers_fixture, a_request_gets_its_reply_and_then_no_timeout) {
  auto a = spawn_task([this](context& ctx) -> caf::behavior {
    return {
        [&ctx](const event& e) { ctx.request("questions", e.key(), "what?", 2s); },
        [this](const reply& r) {
          seen.push_back("reply " + std::string(r.response.value()) + " to " + r.request.value);
        },
        [this](const reply_timeout& t) { seen.push_back("timeout " + t.request.key); },
    };
  });
  src->add(0, "in", "q1", "");
  wake(a);
  const auto requests = sent_to("questions");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("kactor.reply_to"), "asker.replies");
  EXPECT_EQ(requests[0].header("kactor.reply_partition"), "2") << "this task's partition";
  const auto id = requests[0].header("kactor.correlation_id");
  src->add(2, "asker.replies", "q1", "42", {{"kactor.correlation_id", id}});
  wake(a);
  EXPECT_EQ(seen, std::vector<std::string>{"reply 42 to what?"});
  EXPECT_TRUE(state->requests.data.empty());
  const auto before = sink.sent.size();
  sched->advance_time(3s);
  sched->run();
  EXPECT_EQ(loop_back_firings(before), 0u) << "its timeout was cancelled with the reply";
  // The same reply again: no request waits for it any more.
  src->add(2, "asker.replies", "q1", "42", {{"kactor.correlation_id", id}});
  wake(a);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(reply_counters->late_replies.load(), 1u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(timers_fixture, a_timeout_handled_first_makes_the_reply_late) {
  auto a = spawn_task([this](context& ctx) -> caf::behavior {
    return {
        [&ctx](const event& e) { ctx.request("questions", e.key(), "what?", 2s); },
        [this](const reply&) { seen.push_back("reply"); },
        [this](const reply_timeout& t) {
          seen.push_back("timeout " + t.request.key + " after " +
                         std::to_string(t.request.deadline_ms - t.request.sent_ms) + " ms");
        },
    };
  });
  src->add(0, "in", "q1", "");
  wake(a);
  const auto id = sent_to("questions").at(0).header("kactor.correlation_id");
  sched->advance_time(2s);
  sched->run();
  // The reply and the timeout's firing race; the firing is handled first.
  ASSERT_EQ(loop_back_firings(0), 1u);
  src->add(2, "asker.replies", "q1", "42", {{"kactor.correlation_id", id}});
  wake(a);
  EXPECT_EQ(seen, std::vector<std::string>{"timeout q1 after 2000 ms"});
  EXPECT_EQ(reply_counters->late_replies.load(), 1u);
  EXPECT_TRUE(state->requests.data.empty());
  EXPECT_TRUE(state->timers.data.empty());
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(timers_fixture, a_timer_handler_that_fails_is_retried_and_finds_its_timer_again) {
  int attempts = 0;
  auto a = spawn_task([&](context& ctx) -> caf::behavior {
    return {
        [&ctx](const event& e) { ctx.schedule("remind", e.key(), 1s, ""); },
        [&](const timer& t) {
          if (++attempts == 1) throw std::runtime_error("downstream busy");
          seen.push_back(t.key);
        },
    };
  });
  src->add(0, "in", "k", "");
  wake(a);
  sched->advance_time(1s);
  sched->run();
  ASSERT_EQ(loop_back_firings(0), 1u);
  wake(a);
  EXPECT_TRUE(seen.empty());
  sched->advance_time(policy.backoff_max);  // the retry's backoff
  sched->run();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(seen, std::vector<std::string>{"k"});
  EXPECT_TRUE(state->timers.data.empty());
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_F(timers_fixture, a_request_the_producer_refuses_is_not_kept) {
  auto a = spawn_task([this](context& ctx) -> caf::behavior {
    return {
        [&ctx](const event& e) { ctx.request("questions", e.key(), "what?", 2s); },
        [this](const reply&) { seen.push_back("reply"); },
        [this](const reply_timeout& t) { seen.push_back("timeout " + t.request.correlation_id); },
    };
  });
  sink.refuse = 1;  // the first request: librdkafka's queue is full
  sink.refuse_code = RD_KAFKA_RESP_ERR__QUEUE_FULL;
  src->add(0, "in", "q1", "");
  wake(a);
  EXPECT_TRUE(sent_to("questions").empty());
  EXPECT_TRUE(state->requests.data.empty()) << "not sent, not kept";
  sched->advance_time(policy.backoff_max);  // the retry asks again
  sched->run();
  const auto sent = sent_to("questions");
  ASSERT_EQ(sent.size(), 1u);
  sched->advance_time(2s);
  sched->run();
  loop_back_firings(0);
  wake(a);
  EXPECT_EQ(seen, std::vector<std::string>{"timeout " + sent[0].header("kactor.correlation_id")})
      << "one timeout, for the request that went out";
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

}  // namespace
}  // namespace kactor::test
