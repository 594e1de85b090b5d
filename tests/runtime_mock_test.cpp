// The runtime on librdkafka's embedded mock cluster: consumer groups with one
// and two members. The mock cluster serves groups and offsets, which is what
// these tests need; exactly-once is tested on the real broker only.

#include <kactor/kactor.hpp>

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;

/// Which records an agent saw, by (partition, offset), and by whom.
struct ledger {
  std::mutex mx;
  std::map<std::pair<int, std::int64_t>, int> seen;  // -> times seen
  std::map<std::string, std::set<int>> partitions_by_member;
  std::set<std::string> values;

  void add(const std::string& member, const event& e) {
    std::lock_guard lock(mx);
    ++seen[{e.partition().value(), e.offset().value()}];
    partitions_by_member[member].insert(e.partition().value());
    values.insert(std::string(e.value()));
  }
  std::size_t distinct() {
    std::lock_guard lock(mx);
    return values.size();
  }
  int max_times_seen() {
    std::lock_guard lock(mx);
    int m = 0;
    for (auto& [k, n] : seen) m = std::max(m, n);
    return m;
  }
};

runtime_config mock_config(const std::string& brokers = "") {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = std::chrono::milliseconds(100);
  cfg.consumer["session.timeout.ms"] = "6000";
  cfg.consumer["heartbeat.interval.ms"] = "500";
  return cfg;
}

void feed(runtime& rt, const std::string& topic, int from, int to) {
  for (int i = from; i < to; ++i)
    rt.emit(topic, "key-" + std::to_string(i % 101), "record-" + std::to_string(i));
  ASSERT_TRUE(rt.flush(std::chrono::seconds(30)));
}

TEST(runtime_mock, a_single_member_consumes_every_record_exactly_once) {
  runtime rt(mock_config());
  ASSERT_TRUE(rt.embedded());
  rt.create_topic("tasks", 4);
  ledger l;
  rt.agent("worker").consume("tasks").max_poll_records(50).on(
      [&](const event& e, context&) { l.add("a", e); });
  feed(rt, "tasks", 0, 2000);
  rt.start();
  ASSERT_TRUE(test::eventually([&] { return l.distinct() == 2000; }))
      << "saw " << l.distinct() << " of 2000";
  rt.stop();
  EXPECT_EQ(l.max_times_seen(), 1);
  EXPECT_THROW(rt.emit("tasks", "k", "late"), std::logic_error) << "the producer is closed";
  EXPECT_TRUE(rt.flush(std::chrono::seconds(1))) << "stop got every record acknowledged";
  // Final counters stay readable after stop (ASan caught a read of the
  // destroyed producer here).
  auto stats = rt.stats();
  ASSERT_EQ(stats.agents.size(), 1u);
  std::uint64_t processed = 0;
  for (auto& p : stats.agents[0].partitions) {
    processed += p.processed;
    EXPECT_LE(p.max_in_flight, 50u) << "bound held on partition " << p.tp.partition;
  }
  EXPECT_EQ(processed, 2000u);
}

TEST(runtime_mock, emits_reach_their_topic_and_offsets_are_committed) {
  runtime rt(mock_config());
  rt.create_topic("in", 2);
  rt.create_topic("out", 2);
  rt.agent("copier").consume("in").on([](const event& e, context& ctx) {
    ctx.emit("out", e.key(), std::string(e.value()) + "!",
             {{"source-offset", std::to_string(e.offset().value())}});
  });
  feed(rt, "in", 0, 500);
  rt.start();
  ASSERT_TRUE(test::eventually([&] {
    auto s = rt.stats();
    std::uint64_t n = 0;
    for (auto& p : s.agents[0].partitions) n += p.processed;
    return n == 500;
  }));
  rt.stop();  // commits on the way out
  auto out = test::read_all(rt.bootstrap_servers(), "out");
  ASSERT_EQ(out.size(), 500u);
  std::set<std::string> values;
  for (auto& r : out) {
    values.insert(r.value);
    EXPECT_EQ(r.headers.count("source-offset"), 1u);
  }
  EXPECT_EQ(values.size(), 500u);
  EXPECT_TRUE(values.count("record-499!"));
}

// A partition actor with records waiting hands its worker thread back after
// each slice: on one worker, the first partition to get records must not run
// its whole backlog while the others wait.
TEST(runtime_mock, partitions_share_the_worker_threads_fairly) {
  constexpr int kPartitions = 4, kRecords = 20000;
  auto cfg = mock_config();
  cfg.worker_threads = 1;
  runtime rt(cfg);
  rt.create_topic("fair", kPartitions);
  feed(rt, "fair", 0, kRecords);
  std::mutex mx;
  std::vector<int> handled(kPartitions, 0), at_half;
  int total = 0;
  rt.agent("worker").consume("fair").on([&](const event& e, context&) {
    // A handler that costs CPU time, as real ones do.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (std::chrono::steady_clock::now() < until) {
    }
    std::lock_guard lock(mx);
    ++handled[static_cast<std::size_t>(e.partition().value())];
    if (++total == kRecords / 2) at_half = handled;
  });
  rt.start();
  ASSERT_TRUE(test::eventually([&] {
    std::lock_guard lock(mx);
    return total == kRecords;
  }));
  rt.stop();
  std::lock_guard lock(mx);
  ASSERT_EQ(at_half.size(), static_cast<std::size_t>(kPartitions));
  // A fair share is half of each partition's records when half of all were
  // handled; slices of ~2 ms (40 records) taken in turn stay within a few
  // slices of it (measured: 0.46-0.60). A starved partition has none.
  for (std::size_t p = 0; p < at_half.size(); ++p)
    EXPECT_GE(at_half[p] * 10, handled[p] * 4)
        << "partition " << p << " when half the records were handled: " << at_half[0] << ", "
        << at_half[1] << ", " << at_half[2] << ", " << at_half[3] << " (of " << handled[0] << ", "
        << handled[1] << ", " << handled[2] << ", " << handled[3] << ")";
}

TEST(runtime_mock, a_two_member_group_splits_partitions_and_loses_none) {
  runtime first(mock_config());
  first.create_topic("jobs", 8);
  ledger l;
  first.agent("worker").consume("jobs").group("workers").on(
      [&](const event& e, context&) { l.add("first", e); });
  feed(first, "jobs", 0, 1000);
  first.start();
  ASSERT_TRUE(test::eventually([&] { return l.distinct() == 1000; }));

  runtime second(mock_config(first.bootstrap_servers()));
  second.agent("worker").consume("jobs").group("workers").on(
      [&](const event& e, context&) { l.add("second", e); });
  second.start();
  // Wait until the second member owns partitions, then feed more.
  ASSERT_TRUE(test::eventually([&] {
    const auto second_stats = second.stats();
    for (auto& p : second_stats.agents[0].partitions)
      if (p.assigned) return true;
    return false;
  }));
  feed(first, "jobs", 1000, 3000);
  ASSERT_TRUE(test::eventually([&] { return l.distinct() == 3000; }))
      << "saw " << l.distinct() << " of 3000";

  std::set<int> first_parts, second_parts;
  const auto first_stats = first.stats();
  for (auto& p : first_stats.agents[0].partitions)
    if (p.assigned) first_parts.insert(p.tp.partition.value());
  const auto second_stats = second.stats();
  for (auto& p : second_stats.agents[0].partitions)
    if (p.assigned) second_parts.insert(p.tp.partition.value());
  EXPECT_EQ(first_parts.size() + second_parts.size(), 8u);
  EXPECT_FALSE(first_parts.empty());
  EXPECT_FALSE(second_parts.empty());
  for (int p : second_parts) EXPECT_EQ(first_parts.count(p), 0u) << "partition " << p << " twice";
  // The mock cluster drops the first member as lost when the second joins
  // (it waits session.timeout.ms - 1 s for rejoins), so partitions move
  // without a commit and records may be seen twice here; that unmoved
  // partitions keep running is checked against the real broker.
  second.stop();
  first.stop();
}

}  // namespace

namespace {

TEST(runtime_mock, an_unknown_librdkafka_property_fails_at_start_naming_its_key) {
  runtime_config cfg;
  cfg.kafka["no.such.property"] = "1";
  try {
    runtime rt(cfg);
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "kafka.no.such.property");
    EXPECT_NE(std::string(e.what()).find("No such configuration property"), std::string::npos)
        << e.what();
  }
}

TEST(runtime_mock, an_agent_without_a_behaviour_or_with_its_dlq_as_input_is_refused_at_start) {
  runtime rt(mock_config());
  rt.agent("idle").consume("t");
  EXPECT_THROW(rt.start(), config_error);
  runtime rt2(mock_config());
  supervision_policy p;
  p.dlq_topic = "t";
  rt2.agent("loop").consume("t").supervision(p).on([](const event&, context&) {});
  try {
    rt2.start();
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "agents.loop.supervision.dlq_topic");
  }
}

TEST(runtime_mock, the_embedded_cluster_refuses_exactly_once_and_says_why) {
  runtime rt(mock_config());
  rt.agent("eos").consume("t").exactly_once().on([](const event&, context&) {});
  try {
    rt.start();
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "agents.eos.processing_guarantee");
    EXPECT_NE(std::string(e.what()).find("transaction markers"), std::string::npos) << e.what();
  }
}

}  // namespace
