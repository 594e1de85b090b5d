// Settings from outside the file: `--set key=value` overrides
// (apply_override) and values set in code, checked by validate().
#include <kactor/config.hpp>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/config_test_support.hpp"

namespace kactor {
namespace {

using test::expect_error;
using props = std::map<std::string, std::string>;
using strings = std::vector<std::string>;

void expect_override_error(const std::string& assignment, const std::string& key,
                           std::initializer_list<std::string> fragments) {
  SCOPED_TRACE(assignment);
  runtime_config cfg;
  expect_error([&] { apply_override(cfg, assignment); }, key, fragments);
}

agent_config agent(const std::string& name, strings topics) {
  agent_config a;
  a.name = name;
  a.topics = std::move(topics);
  return a;
}

TEST(ApplyOverride, SetsTopLevelKeysAndProperties) {
  runtime_config cfg;
  apply_override(cfg, "brokers=b:9092");
  apply_override(cfg, "client_id=svc");
  apply_override(cfg, "commit_interval_ms=50");
  apply_override(cfg, "worker_threads=3");
  apply_override(cfg, "kafka.security.protocol=SSL");
  apply_override(cfg, "consumer.fetch.min.bytes=1");
  apply_override(cfg, "producer.acks=all");
  apply_override(cfg, "kafka.client.rack=a=b");
  EXPECT_EQ(cfg.brokers, "b:9092");
  EXPECT_EQ(cfg.client_id, "svc");
  EXPECT_EQ(cfg.commit_interval, std::chrono::milliseconds(50));
  EXPECT_EQ(cfg.worker_threads, 3u);
  EXPECT_EQ(cfg.kafka, (props{{"security.protocol", "SSL"}, {"client.rack", "a=b"}}));
  EXPECT_EQ(cfg.consumer, (props{{"fetch.min.bytes", "1"}}));
  EXPECT_EQ(cfg.producer, (props{{"acks", "all"}}));
}

TEST(ApplyOverride, ChangesAnExistingAgent) {
  runtime_config cfg = parse_config("agents: [{name: orders, topics: orders}]");
  apply_override(cfg, "agents.orders.max_poll_records=50");
  apply_override(cfg, "agents.orders.resume_below=10");
  apply_override(cfg, "agents.orders.assignor=roundrobin");
  apply_override(cfg, "agents.orders.group=g");
  apply_override(cfg, "agents.orders.group_instance_id=i-1");
  apply_override(cfg, "agents.orders.topics=a,b");
  apply_override(cfg, "agents.orders.kafka.fetch.wait.max.ms=10");
  ASSERT_EQ(cfg.agents.size(), 1u);
  const agent_config& a = cfg.agents[0];
  EXPECT_EQ(a.name, "orders");
  EXPECT_EQ(a.max_poll_records, 50u);
  EXPECT_EQ(a.resume_below, 10u);
  EXPECT_EQ(a.assignor, assignor_kind::roundrobin);
  EXPECT_EQ(a.group, "g");
  EXPECT_EQ(a.group_instance_id, "i-1");
  EXPECT_EQ(a.topics, (strings{"a", "b"}));
  EXPECT_EQ(a.kafka, (props{{"fetch.wait.max.ms", "10"}}));
  EXPECT_NO_THROW(validate(cfg));
}

TEST(ApplyOverride, SetsSupervisionKeys) {
  runtime_config cfg =
      parse_config("agents: [{name: orders, topics: orders, supervision: {max_retries: 1}}]");
  apply_override(cfg, "agents.orders.supervision.max_retries=9");
  apply_override(cfg, "agents.orders.supervision.backoff_base_ms=20");
  apply_override(cfg, "agents.orders.supervision.backoff_max_ms=400");
  apply_override(cfg, "agents.orders.supervision.dlq_topic=orders.dead");
  apply_override(cfg, "agents.orders.supervision.max_restarts=0");
  apply_override(cfg, "agents.orders.supervision.restart_window_ms=5000");
  ASSERT_EQ(cfg.agents.size(), 1u);
  const supervision_policy& s = cfg.agents[0].supervision;
  EXPECT_EQ(s.max_retries, 9u);
  EXPECT_EQ(s.backoff_base, std::chrono::milliseconds(20));
  EXPECT_EQ(s.backoff_max, std::chrono::milliseconds(400));
  EXPECT_EQ(s.dlq_topic, "orders.dead");
  EXPECT_EQ(s.max_restarts, 0u);
  EXPECT_EQ(s.restart_window, std::chrono::milliseconds(5000));
  EXPECT_NO_THROW(validate(cfg));

  apply_override(cfg, "agents.orders.supervision.dlq_topic=orders");
  expect_error([&] { validate(cfg); }, "agents[0].supervision.dlq_topic", {"loop records forever"});
}

TEST(ApplyOverride, CreatesAnAgentThatIsNotConfigured) {
  runtime_config cfg = parse_config("agents: [{name: orders, topics: orders}]");
  apply_override(cfg, "agents.audit.topics=audit");
  ASSERT_EQ(cfg.agents.size(), 2u);
  EXPECT_EQ(cfg.agents[1].name, "audit");
  EXPECT_EQ(cfg.agents[1].topics, strings{"audit"});
  EXPECT_EQ(cfg.agents[1].max_poll_records, 500u);
}

TEST(ApplyOverride, RejectsBadKeysAndValues) {
  expect_override_error("brokers", "brokers", {"expected key=value"});
  expect_override_error("broker=x", "broker", {"unknown key", "agents.<name>.<field>"});
  expect_override_error("kafka=x", "kafka", {"unknown key", "kafka.<property>"});
  expect_override_error("brokers.x=y", "brokers.x", {"unknown key"});
  expect_override_error("agents..group=g", "agents..group", {"unknown key"});
  expect_override_error(
      "agents.a.name=b", "agents.a.name",
      {"unknown key",
       "topics, produces, stores, group, group_instance_id, start_from, max_poll_records, "
       "resume_below, pause_after_ms, prefetch_budget_mb, assignor, processing_guarantee, "
       "require_topics, timers, requests, reply_topic, transaction_interval_ms, "
       "transaction_max_records, "
       "kafka.<property>, "
       "supervision.<key>"});
  expect_override_error("agents.a.supervision=x", "agents.a.supervision",
                        {"unknown key", "supervision.<key>"});
  expect_override_error("agents.a.supervision.retries=1", "agents.a.supervision.retries",
                        {"unknown key",
                         "max_retries, backoff_base_ms, backoff_max_ms, dlq_topic, max_restarts, "
                         "restart_window_ms, on_escalation"});
  expect_override_error("agents.a.supervision.max_retries=1001", "agents.a.supervision.max_retries",
                        {"'1001'", "integers 0..1000"});
  expect_override_error("agents.a.supervision.restart_window_ms=0",
                        "agents.a.supervision.restart_window_ms", {"'0'", "integers 1..86400000"});
  expect_override_error("worker_threads=-2", "worker_threads", {"'-2'", "integers >= 0"});
  expect_override_error("agents.a.max_poll_records=0", "agents.a.max_poll_records",
                        {"integers 1..1000000"});
  expect_override_error("agents.a.assignor=sticky", "agents.a.assignor",
                        {"cooperative-sticky, range, roundrobin"});
}

TEST(ApplyOverride, LeavesConfigUnchangedOnError) {
  runtime_config cfg;
  EXPECT_THROW(apply_override(cfg, "agents.new.assignor=sticky"), config_error);
  EXPECT_TRUE(cfg.agents.empty());
}

TEST(Validate, ChecksConfigBuiltInCode) {
  runtime_config cfg;
  cfg.agents = {agent("a", {"t"}), agent("b", {"u"})};
  EXPECT_NO_THROW(validate(cfg));

  cfg.agents[1].max_poll_records = 0;
  expect_error([&] { validate(cfg); }, "agents[1].max_poll_records", {"integers 1..1000000"});
  cfg.agents[1].max_poll_records = 8;
  cfg.agents[1].resume_below = 9;
  expect_error([&] { validate(cfg); }, "agents[1].resume_below", {"0..8 (max_poll_records)"});
  cfg.agents[1].resume_below = 8;
  cfg.agents[1].kafka["group.id"] = "g";
  expect_error([&] { validate(cfg); }, "agents[1].kafka.group.id", {"use agents[i].group"});
  cfg.agents[1].kafka.clear();
  cfg.producer["bootstrap.servers"] = "x";
  expect_error([&] { validate(cfg); }, "producer.bootstrap.servers", {"use brokers"});
  cfg.producer.clear();
  cfg.commit_interval = std::chrono::milliseconds(-1);
  expect_error([&] { validate(cfg); }, "commit_interval_ms", {"'-1'", "integers 1..86400000"});
}

TEST(Validate, ChecksSupervisionBuiltInCode) {
  agent_config a = agent("a", {"in"});
  EXPECT_NO_THROW(validate(a, "agents.a"));
  a.supervision.max_retries = 1001;
  expect_error([&] { validate(a, "agents.a"); }, "agents.a.supervision.max_retries",
               {"'1001'", "integers 0..1000"});
  a.supervision.max_retries = 0;
  a.supervision.backoff_base = std::chrono::milliseconds(-5);
  expect_error([&] { validate(a, "agents.a"); }, "agents.a.supervision.backoff_base_ms",
               {"'-5'", "integers 1..3600000"});
  a.supervision.backoff_base = std::chrono::milliseconds(300);
  a.supervision.backoff_max = std::chrono::hours(2);
  expect_error([&] { validate(a, "agents.a"); }, "agents.a.supervision.backoff_max_ms",
               {"'7200000'", "integers 1..3600000"});
  a.supervision.backoff_max = std::chrono::milliseconds(200);
  expect_error([&] { validate(a, "agents.a"); }, "agents.a.supervision.backoff_base_ms",
               {"'300'", "integers 1..200 (must not exceed backoff_max_ms)"});
  a.supervision.backoff_max = std::chrono::milliseconds(300);
  a.supervision.max_restarts = 1001;
  expect_error([&] { validate(a, "agents.a"); }, "agents.a.supervision.max_restarts",
               {"'1001'", "integers 0..1000"});
  a.supervision.max_restarts = 1000;
  a.supervision.restart_window = std::chrono::milliseconds(0);
  expect_error([&] { validate(a, "agents.a"); }, "agents.a.supervision.restart_window_ms",
               {"'0'", "integers 1..86400000"});
  a.supervision.restart_window = std::chrono::hours(24);
  a.supervision.dlq_topic = "in";
  expect_error([&] { validate(a, "agents.a"); }, "agents.a.supervision.dlq_topic",
               {"'in'", "input topics (in)", "loop records forever"});
  a.supervision.dlq_topic = "in.dlq";
  EXPECT_NO_THROW(validate(a, "agents.a"));
}

TEST(Validate, PrefixesAgentKeysWithWhere) {
  expect_error([] { validate(agent("", {"t"}), "agents.x"); }, "agents.x.name", {"empty"});
  expect_error([] { validate(agent("x", {}), "agents.x"); }, "agents.x.topics", {"at least one"});
}

}  // namespace
}  // namespace kactor
