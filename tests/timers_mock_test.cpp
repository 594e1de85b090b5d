// Durable timers and request-reply on the embedded cluster: timers fire once
// each with their payload, in due order within a task, a cancelled one never,
// a timer's handler can schedule the next; a requester gets exactly one of a
// reply and a timeout per request, and a reply to no pending request is
// counted and dropped. Crashes and moves need a real broker:
// timers_kafka_test.

#include <kactor/kactor.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

runtime_config mock_config(const std::string& dir) {
  runtime_config cfg;
  cfg.commit_interval = 100ms;
  cfg.state_dir = dir;
  return cfg;
}

TEST(timers_mock, timers_fire_once_with_their_payload_and_cancelled_ones_never) {
  test::temp_dir dir;
  runtime rt(mock_config(dir.path));
  rt.create_topic("orders", 2);
  rt.create_topic("reminders", 2);
  std::mutex mx;
  std::multiset<std::string> fired;          // name/key=payload
  std::set<std::int32_t> sentinels;          // tasks whose last timer fired
  std::map<std::string, std::int64_t> late;  // fired ms after due, by key
  rt.agent("reminder").consume("orders").timers().behavior([&](context& ctx) -> caf::behavior {
    return {
        [&](const event& e) {
          const auto v = e.value();
          if (v == "remind") ctx.schedule("remind", e.key(), 100ms, "p-" + std::string(e.key()));
          if (v == "cancel") EXPECT_TRUE(ctx.cancel("remind", e.key()));
          if (v == "repeat") ctx.schedule("repeat", e.key(), 50ms, "1");
          // Later than every other timer of its task.
          if (v == "sentinel") ctx.schedule("sentinel", e.key(), 600ms);
        },
        [&](const timer& t) {
          const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
          std::lock_guard lock(mx);
          late[t.key] = now - t.due_ms;
          if (t.name == "sentinel") {
            sentinels.insert(ctx.source().partition.value());
            return;
          }
          fired.insert(t.name + "/" + t.key + "=" + t.payload);
          ctx.emit("reminders", t.key, t.name + "=" + t.payload);
          if (t.name == "repeat" && t.payload != "3")
            ctx.schedule("repeat", t.key, 50ms, std::to_string(std::stoi(t.payload) + 1));
        },
    };
  });
  for (int i = 0; i < 10; ++i) rt.emit("orders", "r" + std::to_string(i), "remind");
  rt.emit("orders", "c1", "remind");
  rt.emit("orders", "c1", "cancel");
  rt.emit("orders", "x1", "repeat");
  ASSERT_TRUE(rt.flush(30s));
  rt.start();
  // Once every record is handled, a sentinel per task (partition): it fires
  // after every other timer of its task would have.
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished() >= 13; }, 60s));
  test::produce_all(rt.bootstrap_servers(), "orders", {{"s0", "sentinel"}}, {}, 0);
  test::produce_all(rt.bootstrap_servers(), "orders", {{"s1", "sentinel"}}, {}, 1);
  ASSERT_TRUE(rt.run_until(
      [&](const runtime_stats&) {
        std::lock_guard lock(mx);
        return sentinels.size() == 2;
      },
      60s));
  std::lock_guard lock(mx);
  std::multiset<std::string> expected;
  for (int i = 0; i < 10; ++i) {
    const auto k = "r" + std::to_string(i);
    expected.insert("remind/" + k + "=p-" + k);
  }
  for (const char* n : {"1", "2", "3"}) expected.insert(std::string("repeat/x1=") + n);
  EXPECT_EQ(fired, expected) << "each once, with its payload; c1 cancelled";
  for (const auto& [key, ms] : late) EXPECT_GE(ms, 0) << key << " fired before it was due";
  const auto stats = rt.stats();
  EXPECT_TRUE(stats.agents.at(0).healthy) << stats.agents.at(0).unhealthy_cause;
}

TEST(timers_mock, a_requester_gets_exactly_one_reply_or_timeout_per_request) {
  test::temp_dir dir;
  runtime rt(mock_config(dir.path));
  rt.create_topic("asks", 2);
  rt.create_topic("questions", 3);
  rt.create_topic("answers", 2);
  rt.agent("knowledge").consume("questions").on([](const event& e, context& ctx) {
    if (e.value().substr(0, 6) != "ignore") ctx.reply(e, "re:" + std::string(e.value()));
  });
  std::atomic<int> replies{0}, timeouts{0};
  rt.agent("asker").consume("asks").requests().behavior([&](context& ctx) -> caf::behavior {
    return {
        [&ctx](const event& e) {
          const bool ignored = e.value().substr(0, 6) == "ignore";
          ctx.request("questions", e.key(), e.value(), ignored ? 300ms : 30s);
        },
        [&](const reply& r) {
          ctx.emit("answers", r.request.key,
                   "reply:" + std::string(r.response.value()) + "|" + r.request.value);
          ++replies;
        },
        [&](const reply_timeout& t) {
          EXPECT_GE(t.request.deadline_ms - t.request.sent_ms, 300);
          ctx.emit("answers", t.request.key, "timeout:" + t.request.value);
          ++timeouts;
        },
    };
  });
  for (int i = 0; i < 15; ++i) rt.emit("asks", "a" + std::to_string(i), "q" + std::to_string(i));
  for (int i = 0; i < 5; ++i)
    rt.emit("asks", "i" + std::to_string(i), "ignore" + std::to_string(i));
  ASSERT_TRUE(rt.flush(30s));
  rt.start();
  ASSERT_TRUE(
      rt.run_until([&](const runtime_stats&) { return replies == 15 && timeouts == 5; }, 60s));
  // A reply to no request of the asker: counted, dropped.
  rt.emit("asker.replies", "stray", "x", {{"kactor.correlation_id", "nobody-asked"}});
  auto late = [](const runtime_stats& s) {
    std::uint64_t n = 0;
    for (const auto& a : s.agents)
      for (const auto& p : a.partitions) n += p.late_replies;
    return n;
  };
  ASSERT_TRUE(rt.run_until([&](const runtime_stats& s) { return late(s) == 1; }, 60s));

  ASSERT_TRUE(rt.flush(30s));  // the answers and requests acknowledged
  const auto brokers = rt.bootstrap_servers();
  std::map<std::string, std::vector<std::string>> answers;
  for (const auto& r : test::read_all(brokers, "answers", 30s, "read_uncommitted"))
    answers[r.key].push_back(r.value);
  ASSERT_EQ(answers.size(), 20u);
  for (int i = 0; i < 15; ++i) {
    const auto k = "a" + std::to_string(i), q = "q" + std::to_string(i);
    EXPECT_EQ(answers[k], std::vector<std::string>{"reply:re:" + q + "|" + q}) << k;
  }
  for (int i = 0; i < 5; ++i) {
    const auto k = "i" + std::to_string(i);
    EXPECT_EQ(answers[k], std::vector<std::string>{"timeout:ignore" + std::to_string(i)}) << k;
  }
  // The requests carry where the reply goes: the asking task's partition.
  std::set<std::string> ids;
  for (const auto& r : test::read_all(brokers, "questions", 30s, "read_uncommitted")) {
    EXPECT_EQ(r.headers.at("kactor.reply_to"), "asker.replies");
    const auto p = std::stoi(r.headers.at("kactor.reply_partition"));
    EXPECT_TRUE(p == 0 || p == 1) << p;
    ids.insert(r.headers.at("kactor.correlation_id"));
  }
  EXPECT_EQ(ids.size(), 20u) << "one correlation id per request";
  const auto stats = rt.stats();
  for (const auto& a : stats.agents) EXPECT_TRUE(a.healthy) << a.name << ": " << a.unhealthy_cause;
}

TEST(timers_mock, a_timer_without_declaring_timers_goes_to_the_dlq_saying_so) {
  test::temp_dir dir;
  runtime rt(mock_config(dir.path));
  rt.create_topic("orders", 1);
  rt.agent("forgetful").consume("orders").on([](const event& e, context& ctx) {
    ctx.schedule("remind", e.key(), 10ms);
  });
  rt.emit("orders", "k", "v");
  ASSERT_TRUE(rt.flush(30s));
  rt.start();
  ASSERT_TRUE(rt.run_until(
      [](const runtime_stats& s) {
        const auto& parts = s.agents.at(0).partitions;
        return !parts.empty() && parts[0].dead_lettered == 1;
      },
      60s));
  const auto letters =
      test::read_all(rt.bootstrap_servers(), "forgetful.dlq", 30s, "read_uncommitted");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_NE(letters[0].headers.at("kactor.dlq.error.message").find("does not declare timers"),
            std::string::npos)
      << letters[0].headers.at("kactor.dlq.error.message");
}

TEST(timers_mock, an_agent_consuming_its_own_reply_topic_is_refused_at_start) {
  test::temp_dir dir;
  runtime rt(mock_config(dir.path));
  rt.create_topic("asks", 2);
  rt.create_topic("asker.replies", 2);
  rt.agent("asker")
      .consume("asks")
      .consume("asker.replies")
      .requests()
      .on([](const event&, context&) {});
  try {
    rt.start();
    FAIL() << "started";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("agents.asker.reply_topic"), std::string::npos) << what;
    EXPECT_NE(what.find("'asker.replies'"), std::string::npos) << what;
  }
}

}  // namespace
