// Consumed topics that do not exist on a real broker: the agent says so
// (missing_topics, not ready) and consumes the topic once it appears, or,
// with require_topics, start refuses naming every missing one.

#include <kactor/kactor.hpp>

#include <atomic>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

runtime_config config(const std::string& brokers) {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = 200ms;
  return cfg;
}

const agent_stats& agent(const runtime_stats& s) {
  return s.agents.at(0);
}

TEST(topics_kafka, a_missing_input_is_reported_until_it_appears_then_consumed) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto present = test::unique_name("present"), later = test::unique_name("later");
  test::create_topic(brokers, present, 1);
  runtime rt(config(brokers));
  std::atomic<int> from_later{0};
  rt.agent("reader").consume(present).consume(later).on([&](const event& e, context&) {
    if (e.topic() == later) ++from_later;
  });
  rt.start();
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return agent(s).rebalances > 0; }, 30s))
      << "the member never joined";
  auto s = rt.stats();
  EXPECT_EQ(agent(s).missing_topics, std::vector<std::string>{later});
  EXPECT_TRUE(agent(s).healthy);
  EXPECT_FALSE(agent(s).ready) << "healthy, joined, but an input is missing";

  test::create_topic(brokers, later, 2);
  rt.emit(later, "k", "v");
  ASSERT_TRUE(rt.flush(10s));
  ASSERT_TRUE(rt.run_until([&](const runtime_stats&) { return from_later.load() == 1; }, 60s))
      << "the topic created after start was never consumed";
  s = rt.stats();
  EXPECT_TRUE(agent(s).missing_topics.empty());
  EXPECT_TRUE(agent(s).ready);
}

TEST(topics_kafka, require_topics_refuses_to_start_naming_every_missing_input) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto present = test::unique_name("present"), a = test::unique_name("absent-a"),
             b = test::unique_name("absent-b");
  test::create_topic(brokers, present, 1);
  auto cfg = config(brokers);
  cfg.agents.push_back(parse_config("agents: [{name: strict, require_topics: true}]").agents[0]);
  runtime rt(cfg);
  rt.agent("strict").consume(present).consume(a).consume(b).on([](const event&, context&) {});
  try {
    rt.start();
    ADD_FAILURE() << "started without its inputs";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.key(), "agents.strict.topics");
    EXPECT_NE(what.find(a), std::string::npos) << what;
    EXPECT_NE(what.find(b), std::string::npos) << what;
    EXPECT_EQ(what.find(present), std::string::npos) << what;
  }
}

}  // namespace
