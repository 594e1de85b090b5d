// Two runtime processes in one consumer group on the real broker; one is
// killed with SIGKILL midway. Every input record must reach the output at
// least once, and the partitions the survivor kept were never revoked.

#include <csignal>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using json = nlohmann::json;

struct member_view {
  int assigned = 0;
  std::uint64_t processed = 0;
  std::map<int, json> partitions;
};

member_view view(const std::string& stats_path) {
  member_view v;
  auto text = test::read_file(stats_path);
  if (text.empty()) return v;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || j["agents"].empty()) return v;
  for (auto& p : j["agents"][0]["partitions"]) {
    v.partitions[p["partition"].get<int>()] = p;
    v.processed += p["processed"].get<std::uint64_t>();
    if (p["assigned"].get<bool>()) ++v.assigned;
  }
  return v;
}

std::vector<std::pair<std::string, std::string>> inputs(int from, int to) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = from; i < to; ++i)
    out.emplace_back("key-" + std::to_string(i % 997), "record-" + std::to_string(i));
  return out;
}

TEST(consumer_groups_kafka, a_killed_member_loses_nothing_and_unmoved_partitions_keep_running) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty()) << "KACTOR_KAFKA_DIR must point at a started broker";
  const auto in = test::unique_name("tasks"), out = in + ".done", group = in + "-workers";
  test::create_topic(brokers, in, 8);
  test::create_topic(brokers, out, 8);
  test::produce_all(brokers, in, inputs(0, 20000));

  const std::string exe = std::getenv("KACTOR_CONSUMER_GROUPS_EXE");
  const std::string dir = test::binary_dir();
  auto member = [&](const std::string& name) {
    return std::make_unique<test::child_process>(
        std::vector<std::string>{exe,
                                 "--brokers",
                                 brokers,
                                 "--input",
                                 in,
                                 "--output",
                                 out,
                                 "--group",
                                 group,
                                 "--instance",
                                 name,
                                 "--max-poll-records",
                                 "100",
                                 "--stats",
                                 dir + "/" + in + "-" + name + ".json",
                                 "--set",
                                 "consumer.session.timeout.ms=6000",
                                 "--set",
                                 "consumer.heartbeat.interval.ms=500",
                                 "--set",
                                 "commit_interval_ms=200"},
        dir + "/" + in + "-" + name + ".log");
  };
  const auto stats_a = dir + "/" + in + "-a.json", stats_b = dir + "/" + in + "-b.json";

  auto a = member("a");
  ASSERT_TRUE(test::eventually([&] { return view(stats_a).assigned == 8; }));
  ASSERT_TRUE(test::eventually([&] { return view(stats_a).processed > 0; }));
  auto b = member("b");
  ASSERT_TRUE(test::eventually([&] {
    return view(stats_b).assigned > 0 && view(stats_a).assigned + view(stats_b).assigned == 8;
  })) << "the second member never got partitions";
  const auto a_before_kill = view(stats_a);
  std::set<int> kept;
  for (auto& [p, s] : a_before_kill.partitions)
    if (s["assigned"].get<bool>()) kept.insert(p);
  ASSERT_FALSE(kept.empty());
  ASSERT_LT(kept.size(), 8u);

  // More input while both run; kill b once it has done some of it.
  test::produce_all(brokers, in, inputs(20000, 40000));
  ASSERT_TRUE(test::eventually([&] { return view(stats_b).processed > 500; }));
  b->signal(SIGKILL);
  EXPECT_EQ(b->wait(std::chrono::seconds(10)), 128 + SIGKILL);
  test::produce_all(brokers, in, inputs(40000, 50000));

  // The survivor takes b's partitions back and drains the topic.
  ASSERT_TRUE(
      test::eventually([&] { return view(stats_a).assigned == 8; }, std::chrono::seconds(90)));
  ASSERT_TRUE(test::eventually([&] { return test::group_caught_up(brokers, group, in, 8); },
                               std::chrono::seconds(120)))
      << "the group never caught up";

  const auto final_a = view(stats_a);  // before shutdown revokes everything
  a->signal(SIGTERM);
  EXPECT_EQ(a->wait(std::chrono::seconds(60)), 0) << "graceful shutdown";

  // Oracle: every input value appears in the output.
  auto output = test::read_all(brokers, out);
  std::set<std::string> seen;
  std::map<std::string, int> by_instance;
  for (auto& r : output) {
    seen.insert(r.value);
    ++by_instance[r.headers["instance"]];
  }
  int missing = 0;
  for (int i = 0; i < 50000; ++i) missing += seen.count("record-" + std::to_string(i)) ? 0 : 1;
  EXPECT_EQ(missing, 0) << "records lost";
  EXPECT_GT(by_instance["a"], 0);
  EXPECT_GT(by_instance["b"], 0);
  RecordProperty("duplicates", static_cast<int>(output.size() - seen.size()));

  // Cooperative rebalancing: the partitions a kept when b joined were never
  // revoked, through b's join and b's death.
  for (int p : kept) {
    auto& s = final_a.partitions.at(p);
    EXPECT_EQ(s["revocations"].get<int>(), 0) << "partition " << p;
    EXPECT_EQ(s["assignments"].get<int>(), 1) << "partition " << p;
  }
}

}  // namespace
