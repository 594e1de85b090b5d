// Defining agents in code and in a config file, as a new user does: the two
// compose, mistakes get a clear error (issue 13). On the embedded cluster.

#include <kactor/kactor.hpp>

#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "kactor_test.pb.h"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

/// A file's config, with commits often enough for short tests.
runtime_config file_config(const std::string& yaml) {
  auto cfg = parse_config(yaml);
  cfg.commit_interval = 100ms;
  return cfg;
}

/// The topics of the partitions `agent` was assigned.
std::set<std::string> assigned_topics(const runtime& rt, const std::string& agent) {
  std::set<std::string> out;
  for (const auto& a : rt.stats().agents)
    if (a.name == agent)
      for (const auto& p : a.partitions) out.insert(p.tp.topic);
  return out;
}

void count(const event&, context&) {}

TEST(agent_builder, the_files_topic_named_again_in_code_is_consumed_once) {
  runtime rt(file_config("agents: [{name: a, topics: [orders, orders]}]"));
  rt.create_topic("orders", 2);
  rt.agent("a").consume("orders").consume("orders").on(count);
  rt.emit("orders", "k", "v");
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished("a") == 1; }, 60s))
      << "subscribe failed or nothing was handled";
  EXPECT_EQ(assigned_topics(rt, "a"), std::set<std::string>{"orders"});
}

TEST(agent_builder, a_file_agent_without_topics_takes_them_from_code) {
  runtime rt(file_config("agents: [{name: a, max_poll_records: 7}]"));
  rt.create_topic("orders", 1);
  rt.agent("a").consume("orders").on(count);
  rt.emit("orders", "k", "v");
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished("a") == 1; }, 60s));
  EXPECT_LE(rt.stats().agents.at(0).partitions.at(0).max_in_flight, 7u) << "the file still counts";
}

TEST(agent_builder, a_topic_in_code_replaces_the_files_list) {
  runtime rt(file_config("agents: [{name: a, topics: [legacy]}]"));
  rt.create_topic("legacy", 1);
  rt.create_topic("orders", 1);
  rt.agent("a").consume("orders").on(count);
  rt.emit("orders", "k", "v");
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished("a") == 1; }, 60s));
  // One member, one rebalance: every partition it subscribed to came at once.
  EXPECT_EQ(assigned_topics(rt, "a"), std::set<std::string>{"orders"});
}

TEST(agent_builder, an_agent_with_topics_nowhere_is_refused_at_start_naming_the_key) {
  runtime rt(file_config("agents: [{name: a}]"));
  rt.agent("a").on(count);
  try {
    rt.start();
    ADD_FAILURE() << "started an agent with no topics";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "agents.a.topics");
  }
}

TEST(agent_builder, defining_or_changing_an_agent_after_start_throws) {
  runtime rt(file_config(""));
  rt.create_topic("orders", 1);
  auto a = rt.agent("a").consume("orders").on(count);
  rt.start();
  EXPECT_THROW(rt.agent("b"), std::logic_error);
  EXPECT_THROW(a.max_poll_records(10), std::logic_error);
  EXPECT_THROW(a.consume("other"), std::logic_error);
  try {
    a.on(count);
    ADD_FAILURE() << "a handler set after start would never run";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("agent a"), std::string::npos) << e.what();
  }
}

TEST(agent_builder, a_negative_count_is_refused_at_once_naming_the_key) {
  runtime rt(file_config(""));
  try {
    rt.agent("a").max_poll_records(-1);
    ADD_FAILURE() << "max_poll_records(-1) accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "agents.a.max_poll_records");
    EXPECT_NE(std::string(e.what()).find("'-1'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(rt.agent("a").resume_below(-5), config_error);
}

TEST(agent_builder, typed_handlers_take_and_emit_protobuf_messages) {
  runtime rt(file_config(""));
  rt.create_topic("tasks", 1);
  rt.create_topic("tasks.priced", 1);
  rt.agent("pricer").consume("tasks").on<test::Task>([](const test::Task& t, context& ctx) {
    test::Task priced = t;
    priced.set_amount(t.amount() * 2);
    ctx.emit("tasks.priced", t.id(), priced);
  });
  std::mutex mx;
  std::vector<std::pair<std::string, std::int64_t>> seen;
  rt.agent("ledger")
      .consume("tasks.priced")
      .on<test::Task>([&](const test::Task& t, const event& e, context&) {
        std::lock_guard lock(mx);
        seen.emplace_back(std::string(e.key()) + "/" + t.id(), t.amount());
      });
  test::Task task;
  task.set_id("t-1");
  task.set_amount(21);
  rt.emit("tasks", "t-1", task.SerializeAsString());
  rt.emit("tasks", "junk", "\xff\xff not a Task");
  ASSERT_TRUE(rt.run_until(
      [](const runtime_stats& s) { return s.finished("pricer") == 2 && s.finished("ledger") == 1; },
      60s));
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::int64_t>>{{"t-1/t-1", 42}}));
  ASSERT_TRUE(rt.run_until(
      [](const runtime_stats& s) {
        for (const auto& a : s.agents)
          if (a.name == "pricer") return a.partitions.at(0).dead_lettered == 1;
        return false;
      },
      30s))
      << "the value that does not parse goes to the dead-letter topic";
  const auto s = rt.stats();
  for (const auto& a : s.agents)
    if (a.name == "pricer") {
      EXPECT_EQ(a.partitions.at(0).retries, 0u) << "not parsing is irrecoverable: no retry";
      EXPECT_EQ(a.partitions.at(0).processed, 1u);
      EXPECT_EQ(a.partitions.at(0).failed, 1u);
    }
}

TEST(agent_builder, run_until_gives_up_after_its_timeout) {
  runtime rt(file_config(""));
  rt.create_topic("orders", 1);
  rt.agent("a").consume("orders").on(count);
  EXPECT_FALSE(rt.run_until([](const runtime_stats& s) { return s.finished() > 0; }, 50ms));
}

TEST(agent_builder, unreachable_brokers_are_named_at_start_and_by_create_topic) {
  runtime_config cfg;
  cfg.brokers = "127.0.0.1:1";
  runtime rt(cfg);
  try {
    rt.create_topic("orders", 1);
    ADD_FAILURE() << "created a topic on no broker";
  } catch (const kafka_exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("create topic orders"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot reach the Kafka brokers 127.0.0.1:1"), std::string::npos) << what;
  }
  rt.agent("a").consume("orders").on(count);
  EXPECT_EQ(rt.run_until_signal(), 1) << "start failed: a message and exit status 1";
}

}  // namespace
