// Replay (the article's pattern 7) on a real broker: `kactor replay` moves a
// stopped group's offsets to a time so that its next run reprocesses exactly
// the records from that time; a dry run changes nothing; a group with active
// members is refused, naming them; an offset outside a log is clamped. An
// agent's `start_from` starts a new group at a time, and a commit wins over
// it on the group's next run. examples/fraud_replay runs rules v2 as a new
// group from a time beside v1, and its comparison matches the topics.

#include "src/cli/replay_tool.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <kactor/kactor.hpp>

#include "src/config/time.hpp"
#include "src/kafka/admin.hpp"
#include "src/kafka/handles.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;
using position = std::pair<std::int32_t, std::int64_t>;  // partition, offset

constexpr int kPartitions = 3;
constexpr int kPerPartition = 20;

/// A past hour: record i of each partition is stamped base + i seconds.
const std::int64_t kBase = 1764583200000;  // 2025-12-01T10:00:00Z

/// Produces kPerPartition records to each partition with timestamps
/// `base + i s` (offsets 0.. in that order on a new topic: idempotence keeps
/// the order through the retries a just-created topic may cause).
void produce_stamped(const std::string& brokers, const std::string& topic, std::int64_t base) {
  auto rk = detail::make_client(
      RD_KAFKA_PRODUCER,
      detail::make_conf({{"", "bootstrap.servers", brokers}, {"", "enable.idempotence", "true"}}));
  for (int p = 0; p < kPartitions; ++p)
    for (int i = 0; i < kPerPartition; ++i) {
      const auto value = "p" + std::to_string(p) + "-" + std::to_string(i);
      ASSERT_EQ(rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                  RD_KAFKA_V_PARTITION(p), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_TIMESTAMP(base + i * 1000), RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
  ASSERT_EQ(rd_kafka_flush(rk.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/// Runs one member of `group` over `topic` until the group has committed the
/// end of every partition; returns the positions it handled.
std::multiset<position> run_group(const std::string& brokers, const std::string& group,
                                  const std::string& topic,
                                  std::optional<std::int64_t> start_from_ms = {},
                                  bool with_store = false) {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.client_id = "replay-test";
  cfg.commit_interval = 100ms;
  cfg.log.level = log_level::warn;
  if (with_store) cfg.state_dir = test::binary_dir() + "/" + group + "-state";
  runtime rt(cfg);
  std::mutex mx;
  std::multiset<position> seen;
  auto agent = rt.agent("reader");
  agent.consume(topic).group(group);
  if (with_store) agent.store("seen");
  if (start_from_ms)
    agent.start_from(
        std::chrono::system_clock::time_point(std::chrono::milliseconds(*start_from_ms)));
  agent.on([&](const event& e, context& ctx) {
    if (with_store) ctx.kv("seen").put(std::string(e.value()), "1");
    std::lock_guard lock(mx);
    seen.insert({e.partition().value(), e.offset().value()});
  });
  rt.start();
  EXPECT_TRUE(test::eventually(
      [&] { return test::group_caught_up(brokers, group, topic, kPartitions); }, 60s))
      << "group " << group << " commits the end of every partition";
  rt.stop();
  std::lock_guard lock(mx);
  return seen;
}

/// Every position of the topic whose record is stamped at or after `from_ms`.
std::multiset<position> stamped_from(std::int64_t from_ms, std::int64_t base = kBase,
                                     std::int64_t first_offset = 0) {
  std::multiset<position> out;
  for (int p = 0; p < kPartitions; ++p)
    for (int i = 0; i < kPerPartition; ++i)
      if (base + i * 1000 >= from_ms) out.insert({p, first_offset + i});
  return out;
}

std::map<std::pair<std::string, std::int32_t>, std::int64_t> committed(const std::string& brokers,
                                                                       const std::string& group) {
  auto rk = detail::make_group_client({{"", "bootstrap.servers", brokers}}, group);
  return detail::group_offsets(rk.get(), group, 10000);
}

detail::replay_options to_time(const std::string& brokers, const std::string& group,
                               const std::string& topic, std::int64_t ms) {
  detail::replay_options o;
  o.brokers = brokers;
  o.group = group;
  o.topic = topic;
  o.to = detail::replay_options::target::time;
  o.value = ms;
  return o;
}

class replay_kafka : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers = test::kafka_bootstrap();
    ASSERT_FALSE(brokers.empty());
    topic = test::unique_name("replay");
    test::create_topic(brokers, topic, kPartitions);
    produce_stamped(brokers, topic, kBase);
  }
  std::string brokers, topic;
};

TEST_F(replay_kafka, a_replay_to_a_time_makes_the_group_reprocess_exactly_the_records_from_then) {
  const auto group = test::unique_name("replay-v2");
  ASSERT_EQ(run_group(brokers, group, topic), stamped_from(0)) << "the first run reads everything";

  const std::int64_t cut = kBase + 12500;  // between records 12 and 13
  const auto rows = detail::run_replay(to_time(brokers, group, topic, cut));
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kPartitions));
  for (const auto& r : rows) {
    EXPECT_EQ(r.old_offset, kPerPartition) << "partition " << r.partition;
    EXPECT_EQ(r.new_offset, 13) << "partition " << r.partition;
  }
  EXPECT_EQ(run_group(brokers, group, topic), stamped_from(cut))
      << "the next run handles the records from the time on, each once, and nothing before";
}

TEST_F(replay_kafka, a_dry_run_prints_the_plan_and_commits_nothing) {
  const auto group = test::unique_name("replay-dry");
  run_group(brokers, group, topic);
  const auto before = committed(brokers, group);

  auto o = to_time(brokers, group, topic, kBase + 5000);
  o.dry_run = true;
  const auto rows = detail::run_replay(o);
  for (const auto& r : rows) EXPECT_EQ(r.new_offset, 5);
  std::ostringstream out;
  detail::print_replay(o, rows, out);
  EXPECT_NE(out.str().find("DRY RUN"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(topic + "/1: 20 -> 5"), std::string::npos) << out.str();
  EXPECT_EQ(committed(brokers, group), before);
}

TEST_F(replay_kafka, a_group_with_active_members_is_refused_and_they_are_named) {
  const auto group = test::unique_name("replay-busy");
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.client_id = "busy-member";
  cfg.log.level = log_level::warn;
  runtime rt(cfg);
  std::atomic<int> handled{0};
  rt.agent("reader").consume(topic).group(group).on([&](const event&, context&) { ++handled; });
  rt.start();
  ASSERT_TRUE(test::eventually(
      [&] { return test::group_caught_up(brokers, group, topic, kPartitions); }, 60s));
  const auto before = committed(brokers, group);

  const std::string cli = std::getenv("KACTOR_CLI_EXE");
  const auto log = test::binary_dir() + "/" + group + ".log";
  test::child_process replay(
      {cli, "replay", "--brokers", brokers, "--group", group, "--topic", topic, "--earliest"}, log);
  EXPECT_EQ(replay.wait(60s), 1);
  const auto said = test::read_file(log);
  EXPECT_NE(said.find("refused"), std::string::npos) << said;
  EXPECT_NE(said.find("1 active member"), std::string::npos) << said;
  EXPECT_NE(said.find("busy-member"), std::string::npos) << "names the member: " << said;
  EXPECT_EQ(committed(brokers, group), before);
  rt.stop();
  EXPECT_EQ(handled.load(), kPartitions * kPerPartition) << "the member read on, undisturbed";
}

TEST_F(replay_kafka, the_cli_prints_old_and_new_offsets_and_clamps_an_offset_outside_the_log) {
  const auto group = test::unique_name("replay-cli");
  run_group(brokers, group, topic);
  const std::string cli = std::getenv("KACTOR_CLI_EXE");
  const auto log = test::binary_dir() + "/" + group + ".log";
  test::child_process replay(
      {cli, "replay", "--brokers", brokers, "--group", group, "--topic", topic, "--offset", "1000"},
      log);
  ASSERT_EQ(replay.wait(60s), 0) << test::read_file(log);
  const auto said = test::read_file(log);
  EXPECT_NE(said.find(topic + "/0: 20 -> 20 (outside the log: clamped)"), std::string::npos)
      << said;

  test::child_process bad({cli, "replay", "--brokers", brokers, "--group", group, "--topic", topic,
                           "--earliest", "--latest"},
                          log);
  EXPECT_EQ(bad.wait(60s), 2) << "one target only: " << test::read_file(log);
  test::child_process no_zone({cli, "replay", "--brokers", brokers, "--group", group, "--topic",
                               topic, "--from", "2025-12-01T10:00:00"},
                              log);
  EXPECT_EQ(no_zone.wait(60s), 2) << test::read_file(log);
}

TEST_F(replay_kafka, lag_watch_follows_the_reprocessing_after_a_replay_until_lag_0) {
  const auto group = test::unique_name("replay-watch");
  run_group(brokers, group, topic);
  detail::replay_options o;
  o.brokers = brokers;
  o.group = group;
  o.topic = topic;
  o.to = detail::replay_options::target::earliest;
  detail::run_replay(o);
  const std::string cli = std::getenv("KACTOR_CLI_EXE");
  const auto log = test::binary_dir() + "/" + group + ".watch.log";
  test::child_process watch({cli, "lag", "--brokers", brokers, "--group", group, "--watch",
                             "--every-ms", "100", "--for", "120"},
                            log);
  const auto all = std::to_string(kPartitions * kPerPartition);
  ASSERT_TRUE(test::eventually([&] {
    return test::read_file(log).find(all + " record(s) behind") != std::string::npos;
  })) << test::read_file(log);
  EXPECT_EQ(run_group(brokers, group, topic), stamped_from(0)) << "the group reprocesses all";
  EXPECT_EQ(watch.wait(60s), 0);
  const auto said = test::read_file(log);
  EXPECT_NE(said.find("kactor lag: " + group + " caught up"), std::string::npos) << said;
  EXPECT_NE(said.find(" of " + all + " record(s)"), std::string::npos) << said;
  EXPECT_NE(said.find("total lag: 0"), std::string::npos) << said;
}

TEST_F(replay_kafka, start_from_starts_a_new_group_at_a_time_and_a_commit_wins_after) {
  const auto group = test::unique_name("replay-start");
  const std::int64_t from = kBase + 15000;
  EXPECT_EQ(run_group(brokers, group, topic, from), stamped_from(from))
      << "a new group starts at the first record of each partition at or after the time";

  // Records stamped before the time, written after the commit: the group's
  // next run reads them (its commit decides, not start_from).
  produce_stamped(brokers, topic, kBase - 3600000);
  EXPECT_EQ(run_group(brokers, group, topic, from),
            stamped_from(0, kBase - 3600000, kPerPartition));
}

TEST_F(replay_kafka, start_from_applies_to_tasks_with_state_stores_too) {
  // A task with stores finds its start once restored, by its own path.
  const auto group = test::unique_name("replay-state");
  const std::int64_t from = kBase + 7000;
  EXPECT_EQ(run_group(brokers, group, topic, from, true), stamped_from(from));
}

TEST(replay_kafka_example, fraud_v2_replays_from_a_time_beside_v1_as_the_topics_say) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto prefix = test::unique_name("fraud-replay") + ".";
  const auto log = test::binary_dir() + "/" + prefix + "log";
  test::child_process run({std::getenv("KACTOR_FRAUD_REPLAY_EXE"), "--brokers", brokers, "--prefix",
                           prefix, "--transactions", "1000"},
                          log);
  ASSERT_EQ(run.wait(180s), 0) << test::read_file(log);
  const auto said = test::read_file(log);
  EXPECT_NE(said.find("fraud v1 decided 1000 transactions"), std::string::npos) << said;
  EXPECT_NE(said.find("fraud v2 decided 500 (group " + prefix + "fraud-v2, from 20"),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("v2 decided exactly the transactions from its start"), std::string::npos);

  // The decision topics, read back: v1 decided transactions 0-999, v2 those
  // written after its start time (500-999), and they differ as printed.
  auto decided = [&](const std::string& version) {
    std::map<int, bool> out;  // transaction number -> blocked
    for (const auto& r : test::read_all(brokers, prefix + "fraud." + version + ".decisions", 60s)) {
      const auto colon = r.value.find(':');
      out[std::stoi(r.value.substr(3, colon - 3))] = r.value.substr(colon + 1) == "block";
    }
    return out;
  };
  const auto v1 = decided("v1"), v2 = decided("v2");
  ASSERT_EQ(v1.size(), 1000u);
  ASSERT_EQ(v2.size(), 500u);
  EXPECT_EQ(v2.begin()->first, 500);
  EXPECT_EQ(v2.rbegin()->first, 999);
  std::map<std::pair<bool, bool>, int> table;
  for (const auto& [tx, blocked] : v2) ++table[{v1.at(tx), blocked}];
  EXPECT_GT((table[{false, true}]), 0) << "the rules differ on some transactions";
  for (const auto& [row, a, b] :
       std::vector<std::tuple<std::string, bool, bool>>{{"both allow", false, false},
                                                        {"both block", true, true},
                                                        {"v1 block, v2 allow", true, false},
                                                        {"v1 allow, v2 block", false, true}}) {
    const auto line = fmt::format("  {:<22} {:>6}\n", row, table[{a, b}]);
    EXPECT_NE(said.find(line), std::string::npos) << "expected \"" << line << "\" in\n" << said;
  }
}

}  // namespace
