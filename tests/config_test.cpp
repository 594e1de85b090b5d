// Reading the config file: YAML keys, values and their errors (parse_config,
// load_config).
#include <kactor/config.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "tests/config_test_support.hpp"

namespace kactor {
namespace {

using props = std::map<std::string, std::string>;
using strings = std::vector<std::string>;

using test::expect_error;

void expect_parse_error(const std::string& yaml, const std::string& key,
                        std::initializer_list<std::string> fragments) {
  SCOPED_TRACE(yaml);
  expect_error([&] { parse_config(yaml); }, key, fragments);
}

constexpr const char* kFullConfig = R"(
brokers: broker1:9092,broker2:9092
client_id: billing
commit_interval_ms: 250
worker_threads: 4
kafka:
  socket.keepalive.enable: yes
  debug: "no"
  message.max.bytes: 2000000
consumer:
  auto.offset.reset: earliest
producer:
  linger.ms: 5
  enable.idempotence: true
agents:
  - name: orders
    topics: [orders, orders-retry]
    group: orders-group
    max_poll_records: 100
    resume_below: 20
    pause_after_ms: 250
    assignor: range
    processing_guarantee: exactly_once
    transaction_interval_ms: 250
    transaction_max_records: 5000
    group_instance_id: orders-1
    kafka:
      fetch.max.bytes: 1048576
    supervision:
      max_retries: 7
      backoff_base_ms: 50
      backoff_max_ms: 2000
      dlq_topic: orders-dead
      max_restarts: 2
      restart_window_ms: 30000
  - name: audit
    topics: audit
)";

TEST(ParseConfig, FullFileGivesEveryValue) {
  const runtime_config cfg = parse_config(kFullConfig);
  EXPECT_EQ(cfg.brokers, "broker1:9092,broker2:9092");
  EXPECT_EQ(cfg.client_id, "billing");
  EXPECT_EQ(cfg.commit_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(cfg.worker_threads, 4u);
  EXPECT_EQ(cfg.kafka, (props{{"socket.keepalive.enable", "true"},
                              {"debug", "no"},
                              {"message.max.bytes", "2000000"}}));
  EXPECT_EQ(cfg.consumer, (props{{"auto.offset.reset", "earliest"}}));
  EXPECT_EQ(cfg.producer, (props{{"linger.ms", "5"}, {"enable.idempotence", "true"}}));
  ASSERT_EQ(cfg.agents.size(), 2u);

  const agent_config& orders = cfg.agents[0];
  EXPECT_EQ(orders.name, "orders");
  EXPECT_EQ(orders.topics, (strings{"orders", "orders-retry"}));
  EXPECT_EQ(orders.group, "orders-group");
  EXPECT_EQ(orders.max_poll_records, 100u);
  EXPECT_EQ(orders.resume_below, 20u);
  EXPECT_EQ(orders.pause_after, std::chrono::milliseconds(250));
  EXPECT_EQ(orders.assignor, assignor_kind::range);
  EXPECT_EQ(orders.guarantee, processing_guarantee::exactly_once);
  EXPECT_EQ(orders.transaction_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(orders.transaction_max_records, 5000u);
  EXPECT_EQ(orders.group_instance_id, "orders-1");
  EXPECT_EQ(orders.kafka, (props{{"fetch.max.bytes", "1048576"}}));
  EXPECT_EQ(orders.supervision.max_retries, 7u);
  EXPECT_EQ(orders.supervision.backoff_base, std::chrono::milliseconds(50));
  EXPECT_EQ(orders.supervision.backoff_max, std::chrono::milliseconds(2000));
  EXPECT_EQ(orders.supervision.dlq_topic, "orders-dead");
  EXPECT_EQ(orders.supervision.max_restarts, 2u);
  EXPECT_EQ(orders.supervision.restart_window, std::chrono::milliseconds(30000));

  const agent_config& audit = cfg.agents[1];
  EXPECT_EQ(audit.name, "audit");
  EXPECT_EQ(audit.topics, strings{"audit"});
  EXPECT_EQ(audit.group, "");
  EXPECT_EQ(audit.max_poll_records, 500u);
  EXPECT_EQ(audit.resume_below, 0u);
  EXPECT_EQ(audit.pause_after, std::chrono::milliseconds(100));
  EXPECT_EQ(audit.assignor, assignor_kind::cooperative_sticky);
  EXPECT_EQ(audit.group_instance_id, "");
  EXPECT_TRUE(audit.kafka.empty());
  EXPECT_EQ(audit.supervision.max_retries, 3u);
  EXPECT_EQ(audit.supervision.backoff_base, std::chrono::milliseconds(100));
  EXPECT_EQ(audit.supervision.backoff_max, std::chrono::milliseconds(10000));
  EXPECT_EQ(audit.supervision.dlq_topic, "");
  EXPECT_EQ(audit.supervision.max_restarts, 5u);
  EXPECT_EQ(audit.supervision.restart_window, std::chrono::milliseconds(60000));
}

TEST(ParseConfig, DeclaredOutputsParseFromTheFileAndOverrides) {
  runtime_config cfg = parse_config(
      "agents: [{name: orders, topics: orders, produces: [orders.completed, orders.audit]}]");
  ASSERT_EQ(cfg.agents.size(), 1u);
  EXPECT_EQ(cfg.agents[0].produces, (std::vector<std::string>{"orders.completed", "orders.audit"}));
  apply_override(cfg, "agents.orders.produces=a,b");
  EXPECT_EQ(cfg.agents[0].produces, (std::vector<std::string>{"a", "b"}));
  cfg.agents[0].produces.push_back("");
  expect_error([&] { validate(cfg); }, "agents[0].produces", {"topic names must not be empty"});
}

TEST(ParseConfig, StoresAndTheStateDirectoryParseAndAreChecked) {
  auto cfg = parse_config(
      "state_dir: /var/lib/kactor\nstate_memory_mb: 64\n"
      "agents: [{name: trips, topics: trips, stores: [sagas, pending]}]");
  EXPECT_EQ(cfg.state_dir, "/var/lib/kactor");
  EXPECT_EQ(cfg.state_memory_mb, 64u);
  EXPECT_EQ(cfg.agents[0].stores, (std::vector<std::string>{"sagas", "pending"}));
  apply_override(cfg, "agents.trips.stores=a,b");
  EXPECT_EQ(cfg.agents[0].stores, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(runtime_config{}.state_dir, "kactor-state");
  cfg.agents[0].stores = {"a/b"};
  expect_error([&] { validate(cfg); }, "agents[0].stores",
               {"'a/b'", "letters, digits, '.', '_' and '-'"});
  cfg.agents[0].stores = {"a", "a"};
  expect_error([&] { validate(cfg); }, "agents[0].stores", {"'a' is declared twice"});
  cfg.agents[0].stores = {"kactor.timers"};
  expect_error([&] { validate(cfg); }, "agents[0].stores",
               {"'kactor.timers'", "do not start with 'kactor.'"});
  expect_parse_error("state_memory_mb: 4", "state_memory_mb", {"'4'"});
  expect_parse_error("state_dir: ''", "state_dir", {"must not be empty"});
  expect_parse_error("agents: [{name: a, topics: t, stores: {x: 1}}]", "agents[0].stores",
                     {"a store name or a sequence of them"});
}

TEST(ParseConfig, SupervisionSectionMayBeEmptyOrPartial) {
  const auto cfg = parse_config(
      "agents:\n  - {name: a, topics: t, supervision: }\n"
      "  - {name: b, topics: t, supervision: {max_retries: 0, dlq_topic: ''}}");
  ASSERT_EQ(cfg.agents.size(), 2u);
  EXPECT_EQ(cfg.agents[0].supervision.max_retries, 3u);
  EXPECT_EQ(cfg.agents[1].supervision.max_retries, 0u);
  EXPECT_EQ(cfg.agents[1].supervision.dlq_topic, "");
  EXPECT_EQ(cfg.agents[1].supervision.max_restarts, 5u);
}

TEST(ParseConfig, EmptyDocumentGivesDefaults) {
  for (const char* yaml : {"", "# only a comment\n", "kafka:\nagents:\n"}) {
    SCOPED_TRACE(yaml);
    const runtime_config cfg = parse_config(yaml);
    EXPECT_EQ(cfg.brokers, "");
    EXPECT_EQ(cfg.client_id, "kactor");
    EXPECT_EQ(cfg.commit_interval, std::chrono::milliseconds(1000));
    EXPECT_EQ(cfg.worker_threads, 0u);
    EXPECT_TRUE(cfg.kafka.empty());
    EXPECT_TRUE(cfg.consumer.empty());
    EXPECT_TRUE(cfg.producer.empty());
    EXPECT_TRUE(cfg.agents.empty());
  }
}

TEST(ParseConfig, AllAssignorsParse) {
  for (auto a :
       {assignor_kind::cooperative_sticky, assignor_kind::range, assignor_kind::roundrobin}) {
    const auto cfg =
        parse_config(std::string("agents: [{name: a, topics: t, assignor: ") + to_string(a) + "}]");
    EXPECT_EQ(cfg.agents.at(0).assignor, a);
  }
}

TEST(ParseConfig, QuotedPropertyValuesStayAsWritten) {
  const auto cfg = parse_config("kafka: {a: 'on', b: on, c: False, d: '007'}");
  EXPECT_EQ(cfg.kafka, (props{{"a", "on"}, {"b", "true"}, {"c", "false"}, {"d", "007"}}));
}

TEST(ParseConfig, UnknownKeysNameTheirPathAndTheAllowedKeys) {
  expect_parse_error(
      "broker: x", "broker",
      {"unknown key",
       "brokers, client_id, commit_interval_ms, worker_threads, state_dir, state_memory_mb, "
       "log, metrics, kafka, consumer, producer, agents"});
  expect_parse_error(
      "agents:\n  - {name: a, topics: t}\n  - {name: b, topics: t, max_poll_record: 5}",
      "agents[1].max_poll_record",
      {"unknown key",
       "name, topics, produces, stores, group, group_instance_id, start_from, max_poll_records, "
       "resume_below, "
       "pause_after_ms, prefetch_budget_mb, assignor, processing_guarantee, require_topics, "
       "timers, "
       "requests, reply_topic, transaction_interval_ms, "
       "transaction_max_records, kafka, supervision"});
  expect_parse_error("agents: [{name: a, topics: t, supervision: {retries: 1}}]",
                     "agents[0].supervision.retries",
                     {"unknown key",
                      "max_retries, backoff_base_ms, backoff_max_ms, dlq_topic, max_restarts, "
                      "restart_window_ms, on_escalation"});
}

TEST(ParseConfig, DuplicateKeysAreRejected) {
  expect_parse_error("brokers: a\nbrokers: b", "brokers", {"duplicate key"});
  expect_parse_error("kafka: {debug: all, debug: none}", "kafka.debug", {"duplicate key"});
}

TEST(ParseConfig, InvalidProcessingGuaranteeListsTheAllowedValues) {
  expect_parse_error("agents:\n  - {name: a, topics: t, processing_guarantee: exactly-once}",
                     "agents[0].processing_guarantee",
                     {"invalid value 'exactly-once'", "at_least_once, exactly_once"});
}

TEST(ParseConfig, InvalidAssignorListsTheAllowedValues) {
  expect_parse_error("agents: [{name: a, topics: t, assignor: sticky}]", "agents[0].assignor",
                     {"invalid value 'sticky'", "allowed: cooperative-sticky, range, roundrobin"});
}

TEST(ParseConfig, EscalationPolicyIsOneOfThree) {
  using action = supervision_policy::escalation_action;
  EXPECT_EQ(parse_config("agents: [{name: a, topics: t}]").agents[0].supervision.on_escalation,
            action::pause);
  EXPECT_EQ(parse_config("agents: [{name: a, topics: t, supervision: {on_escalation: exit}}]")
                .agents[0]
                .supervision.on_escalation,
            action::exit);
  expect_parse_error("agents: [{name: a, topics: t, supervision: {on_escalation: restart}}]",
                     "agents[0].supervision.on_escalation",
                     {"invalid value 'restart'", "allowed: pause, leave_group, exit"});
}

TEST(ParseConfig, StartFromIsAnInstantWithItsZone) {
  const auto cfg =
      parse_config("agents: [{name: a, topics: t, start_from: '2025-12-01T11:00:00+01:00'}]");
  ASSERT_TRUE(cfg.agents[0].start_from);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(
                cfg.agents[0].start_from->time_since_epoch())
                .count(),
            1764583200000);
  EXPECT_FALSE(parse_config("agents: [{name: a, topics: t}]").agents[0].start_from);
  expect_parse_error("agents: [{name: a, topics: t, start_from: '2025-12-01T10:00:00'}]",
                     "agents[0].start_from",
                     {"invalid value '2025-12-01T10:00:00'", "ISO-8601", "with Z or +HH:MM"});
}

TEST(ParseConfig, IntegersAreCheckedNotWrapped) {
  expect_parse_error("worker_threads: -1", "worker_threads", {"'-1'", "integers >= 0"});
  expect_parse_error("worker_threads: 2.5", "worker_threads", {"'2.5'", "integers >= 0"});
  expect_parse_error("commit_interval_ms: soon", "commit_interval_ms",
                     {"'soon'", "integers 1..86400000"});
  expect_parse_error("commit_interval_ms: 0", "commit_interval_ms",
                     {"'0'", "integers 1..86400000"});
  expect_parse_error("commit_interval_ms: 99999999999999999999", "commit_interval_ms",
                     {"integers 1..86400000"});
  expect_parse_error("commit_interval_ms: 86400001", "commit_interval_ms",
                     {"'86400001'", "integers 1..86400000"});
  const std::string agent = "agents: [{name: a, topics: t, ";
  expect_parse_error(agent + "max_poll_records: 0}]", "agents[0].max_poll_records",
                     {"'0'", "integers 1..1000000"});
  expect_parse_error(agent + "max_poll_records: 1000001}]", "agents[0].max_poll_records",
                     {"'1000001'", "integers 1..1000000"});
  expect_parse_error(agent + "max_poll_records: -5}]", "agents[0].max_poll_records",
                     {"'-5'", "integers 1..1000000"});
  expect_parse_error(agent + "resume_below: -1}]", "agents[0].resume_below",
                     {"'-1'", "integers >= 0"});
  expect_parse_error(agent + "max_poll_records: 10, resume_below: 11}]", "agents[0].resume_below",
                     {"'11'", "0..10 (max_poll_records)"});
}

TEST(ParseConfig, SupervisionValuesAreRangeChecked) {
  const std::string agent = "agents: [{name: a, topics: t, supervision: {";
  const std::string key = "agents[0].supervision.";
  expect_parse_error(agent + "max_retries: 1001}}]", key + "max_retries",
                     {"'1001'", "integers 0..1000"});
  expect_parse_error(agent + "max_retries: -1}}]", key + "max_retries",
                     {"'-1'", "integers 0..1000"});
  expect_parse_error(agent + "backoff_base_ms: 0}}]", key + "backoff_base_ms",
                     {"'0'", "integers 1..3600000"});
  expect_parse_error(agent + "backoff_max_ms: 3600001}}]", key + "backoff_max_ms",
                     {"'3600001'", "integers 1..3600000"});
  expect_parse_error(agent + "max_restarts: 1001}}]", key + "max_restarts",
                     {"'1001'", "integers 0..1000"});
  expect_parse_error(agent + "restart_window_ms: 0}}]", key + "restart_window_ms",
                     {"'0'", "integers 1..86400000"});
  expect_parse_error(agent + "restart_window_ms: 86400001}}]", key + "restart_window_ms",
                     {"'86400001'", "integers 1..86400000"});
  expect_parse_error(agent + "dlq_topic: [d]}}]", key + "dlq_topic", {"expected a scalar"});
  expect_parse_error("agents: [{name: a, topics: t, supervision: [1]}]", "agents[0].supervision",
                     {"expected a map"});
}

TEST(ParseConfig, BackoffBaseMustNotExceedBackoffMax) {
  expect_parse_error(
      "agents: [{name: a, topics: t, supervision: {backoff_base_ms: 500, backoff_max_ms: 200}}]",
      "agents[0].supervision.backoff_base_ms",
      {"'500'", "integers 1..200", "must not exceed backoff_max_ms"});
  // The default base (100) is checked against a lowered max too.
  expect_parse_error("agents: [{name: a, topics: t, supervision: {backoff_max_ms: 99}}]",
                     "agents[0].supervision.backoff_base_ms",
                     {"'100'", "integers 1..99", "must not exceed backoff_max_ms"});
  EXPECT_NO_THROW(parse_config(
      "agents: [{name: a, topics: t, supervision: {backoff_base_ms: 200, backoff_max_ms: 200}}]"));
}

TEST(ParseConfig, DeadLetterTopicMustNotBeAnInput) {
  expect_parse_error(
      "agents: [{name: a, topics: [orders, retry], supervision: {dlq_topic: retry}}]",
      "agents[0].supervision.dlq_topic",
      {"invalid value 'retry'", "any topic but the agent's input topics (orders, retry)",
       "loop records forever"});
}

TEST(ParseConfig, WrongTypesNameTheKey) {
  expect_parse_error("- a", "config", {"expected a map"});
  expect_parse_error("brokers: [a, b]", "brokers", {"expected a scalar"});
  expect_parse_error("kafka: [a]", "kafka", {"expected a map"});
  expect_parse_error("consumer: {debug: {a: b}}", "consumer.debug", {"expected a scalar"});
  expect_parse_error("agents: {name: a}", "agents", {"expected a sequence"});
  expect_parse_error("agents: [{name: a, topics: {t: 1}}]", "agents[0].topics",
                     {"expected a topic name or a sequence"});
  expect_parse_error("agents: [{name: a, topics: [t, [u]]}]", "agents[0].topics[1]",
                     {"expected a scalar"});
  expect_parse_error("agents: [{name: a, topics: t, group: [g]}]", "agents[0].group",
                     {"expected a scalar"});
}

TEST(ParseConfig, RequireTopicsIsTrueOrFalse) {
  EXPECT_FALSE(parse_config("agents: [{name: a, topics: t}]").agents[0].require_topics);
  EXPECT_TRUE(parse_config("agents: [{name: a, topics: t, require_topics: true}]")
                  .agents[0]
                  .require_topics);
  expect_parse_error("agents: [{name: a, topics: t, require_topics: maybe}]",
                     "agents[0].require_topics", {"'maybe'", "true, false"});
}

TEST(ParseConfig, MetricsListenIsAPortOrHostAndPort) {
  EXPECT_EQ(parse_config("metrics: {listen: \"9464\"}").metrics.listen, "9464");
  EXPECT_EQ(parse_config("metrics: {listen: \"0.0.0.0:9464\"}").metrics.listen, "0.0.0.0:9464");
  EXPECT_TRUE(parse_config("brokers: b").metrics.listen.empty()) << "off by default";
  expect_parse_error("metrics: {listen: \"host:99999\"}", "metrics.listen",
                     {"'host:99999'", "PORT or HOST:PORT"});
  expect_parse_error("metrics: {port: 1}", "metrics.port", {"unknown key", "listen"});
  runtime_config cfg;
  apply_override(cfg, "metrics.listen=127.0.0.1:0");
  EXPECT_EQ(cfg.metrics.listen, "127.0.0.1:0");
}

TEST(ParseConfig, TimersAndRequestsAreDeclaredPerAgent) {
  const auto cfg = parse_config(
      "agents: [{name: a, topics: t, timers: true}, {name: b, topics: t, requests: true, "
      "reply_topic: b.answers}, {name: c, topics: t}]");
  EXPECT_TRUE(cfg.agents[0].timers);
  EXPECT_FALSE(cfg.agents[0].requests);
  EXPECT_TRUE(cfg.agents[1].requests);
  EXPECT_EQ(cfg.agents[1].reply_topic, "b.answers");
  EXPECT_FALSE(cfg.agents[2].timers || cfg.agents[2].requests);
  EXPECT_TRUE(cfg.agents[2].reply_topic.empty());
  expect_parse_error("agents: [{name: a, topics: t, timers: yes}]", "agents[0].timers",
                     {"'yes'", "true, false"});
}

TEST(ParseConfig, TheLogLevelAndFormatAreReadAndChecked) {
  const auto cfg = parse_config("log: {level: debug, format: json}");
  EXPECT_EQ(cfg.log.level, log_level::debug);
  EXPECT_EQ(cfg.log.format, log_format::json);
  EXPECT_EQ(runtime_config{}.log.level, log_level::info);
  expect_parse_error("log: {level: loud}", "log.level",
                     {"'loud'", "trace, debug, info, warn, error, off"});
  expect_parse_error("log: {format: xml}", "log.format", {"text, json"});
  expect_parse_error("log: {colour: red}", "log.colour", {"unknown key", "level, format"});
  runtime_config over;
  apply_override(over, "log.level=error");
  EXPECT_EQ(over.log.level, log_level::error);
}

TEST(ParseConfig, AgentsNeedAUniqueNameAndMayLeaveTheirTopicsToCode) {
  expect_parse_error("agents: [{topics: t}]", "agents[0].name", {"must not be empty"});
  expect_parse_error("agents: [{name: '', topics: t}]", "agents[0].name", {"must not be empty"});
  // Topics may come from `.consume()`; runtime::start checks the composed agent.
  EXPECT_TRUE(parse_config("agents: [{name: a}]").agents.at(0).topics.empty());
  EXPECT_TRUE(parse_config("agents: [{name: a, topics: []}]").agents.at(0).topics.empty());
  agent_config no_topics;
  no_topics.name = "a";
  try {
    validate(no_topics, "agents.a");
    ADD_FAILURE() << "an agent about to start needs a topic";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "agents.a.topics");
  }
  expect_parse_error("agents: [{name: a, topics: [t, '']}]", "agents[0].topics",
                     {"must not be empty"});
  expect_parse_error("agents: [{name: a, topics: t}, {name: b, topics: t}, {name: a, topics: u}]",
                     "agents[2].name", {"duplicate agent name 'a'", "agents[0]"});
}

TEST(ParseConfig, PropertiesKactorManagesAreRejected) {
  const std::pair<const char*, const char*> managed[] = {
      {"group.id", "agents[i].group"},
      {"enable.auto.offset.store", "commit_interval_ms"},
      {"enable.auto.commit", "commit_interval_ms"},
      {"auto.commit.interval.ms", "commit_interval_ms"},
      {"partition.assignment.strategy", "agents[i].assignor"},
      {"group.instance.id", "agents[i].group_instance_id"},
      {"bootstrap.servers", "brokers"},
      {"metadata.broker.list", "brokers"},
  };
  for (const auto& [property, use] : managed) {
    const std::string prop = property;
    expect_parse_error("kafka: {" + prop + ": x}", "kafka." + prop, {"use " + std::string(use)});
    expect_parse_error("consumer: {" + prop + ": x}", "consumer." + prop, {use});
    expect_parse_error("agents: [{name: a, topics: t, kafka: {" + prop + ": x}}]",
                       "agents[0].kafka." + prop, {use});
  }
}

TEST(ParseConfig, SyntaxErrorsGiveLineAndColumn) {
  expect_parse_error("brokers: x\nagents: [a, b\n", "config", {"line 3, column 1"});
}

class LoadConfig : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }
  const std::string path_ =
      ::testing::TempDir() + "kactor_config_test_" + std::to_string(::getpid()) + ".yaml";
};

TEST_F(LoadConfig, ReadsAFile) {
  std::ofstream(path_) << kFullConfig;
  const runtime_config cfg = load_config(path_);
  EXPECT_EQ(cfg.client_id, "billing");
  ASSERT_EQ(cfg.agents.size(), 2u);
  EXPECT_EQ(cfg.agents[1].name, "audit");
}

TEST_F(LoadConfig, EmptyFileGivesDefaults) {
  std::ofstream{path_};
  EXPECT_EQ(load_config(path_).client_id, "kactor");
}

TEST_F(LoadConfig, SyntaxErrorNamesTheFile) {
  std::ofstream(path_) << "brokers: [x\n";
  expect_error([&] { load_config(path_); }, "config", {path_, "line 2"});
}

TEST_F(LoadConfig, MissingOrUnreadablePathIsAConfigError) {
  expect_error([&] { load_config(path_); }, "config", {path_, "No such file"});
  expect_error([] { load_config(::testing::TempDir()); }, "config", {::testing::TempDir()});
}

}  // namespace
}  // namespace kactor
