// exactly_once on the real broker: the output read at read_committed equals
// the oracle — per key, in order, no gaps, no duplicates — on a clean run and
// when handlers fail inside open transactions (which abort and rewind).

#include <kactor/kactor.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include <csignal>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;

constexpr int kKeys = 200;

using test::expect_matches_oracle;

struct eos_fixture : ::testing::Test {
  std::string brokers = test::kafka_bootstrap();
  std::string in = test::unique_name("eos-in"), out = in + ".out", group = in + "-g";
  std::vector<std::pair<std::string, std::string>> input;

  void SetUp() override {
    ASSERT_FALSE(brokers.empty());
    test::create_topic(brokers, in, 6);
    test::create_topic(brokers, out, 6);
    input = test::sequenced(50000, kKeys);
    test::produce_all(brokers, in, input);
  }

  /// Runs one exactly_once agent until its group has committed the whole input.
  agent_stats run(const std::function<void(const event&)>& before_emit, std::size_t max_retries = 3,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(100),
                  std::size_t max_records = 0) {
    runtime_config cfg;
    cfg.brokers = brokers;
    runtime rt(cfg);
    supervision_policy policy;
    policy.backoff_base = std::chrono::milliseconds(10);
    policy.backoff_max = std::chrono::milliseconds(100);
    policy.max_retries = max_retries;
    policy.dlq_topic = in + ".dlq";
    rt.agent("copier")
        .consume(in)
        .group(group)
        .supervision(policy)
        .exactly_once(interval, max_records)
        .on([&](const event& e, context& ctx) {
          before_emit(e);
          ctx.emit(out, e.key(), e.value());
        });
    rt.start();
    EXPECT_TRUE(test::eventually([&] { return test::group_caught_up(brokers, group, in, 6); },
                                 std::chrono::seconds(180)))
        << "the committed offsets never reached the input's end";
    auto stats = rt.stats().agents.at(0);
    rt.stop();
    return stats;
  }
};

TEST_F(eos_fixture, a_clean_run_commits_every_output_exactly_once) {
  auto stats = run([](const event&) {});
  EXPECT_GE(stats.transactions_committed, 1u);
  EXPECT_EQ(stats.transactions_aborted, 0u);
  // A commit waits at least for the broker's answer to EndTxn.
  EXPECT_GT(stats.commit_time.count(), 0);
  expect_matches_oracle(input, test::read_all(brokers, out));
}

TEST_F(eos_fixture, transactions_commit_after_max_records_well_before_their_interval) {
  // With a 10-minute interval, only the record count can make the group's
  // committed offsets reach the input's end within run()'s 180 s. A count of
  // 1 makes the last records trigger a commit too (a larger count may leave a
  // smaller remainder to the interval).
  auto stats = run([](const event&) {}, 3, std::chrono::minutes(10), 1);
  EXPECT_GE(stats.transactions_committed, 2u);
  expect_matches_oracle(input, test::read_all(brokers, out));
}

TEST_F(eos_fixture, a_handler_failing_inside_a_transaction_aborts_it_and_the_output_stays_exact) {
  std::mutex mx;
  std::set<std::string> failed_once;
  auto stats = run([&](const event& e) {
    const std::string v(e.value());
    const int key = std::stoi(v), seq = std::stoi(v.substr(v.find(':') + 1));
    if (key % 10 != 0 || seq != 120) return;  // 20 records, deep into the run
    std::lock_guard lock(mx);
    // The first attempt throws after other records of the transaction emitted.
    if (failed_once.insert(v).second) throw std::runtime_error("risk service timeout");
  });
  EXPECT_GT(stats.transactions_aborted, 0u);
  EXPECT_GT(stats.transactions_committed, 0u);
  EXPECT_TRUE(stats.healthy);
  expect_matches_oracle(input, test::read_all(brokers, out));
}

TEST_F(eos_fixture, a_record_out_of_retries_goes_to_the_dlq_in_the_transaction_that_skips_it) {
  std::set<std::string> poison;
  for (int k = 0; k < kKeys; k += 40) poison.insert(std::to_string(k) + ":77");  // 5 records
  auto stats = run(
      [&](const event& e) {
        if (poison.count(std::string(e.value()))) throw std::runtime_error("always down");
      },
      2);
  EXPECT_TRUE(stats.healthy);
  std::vector<std::pair<std::string, std::string>> expected;
  for (auto& r : input)
    if (!poison.count(r.second)) expected.push_back(r);
  expect_matches_oracle(expected, test::read_all(brokers, out));
  auto letters = test::read_all(brokers, in + ".dlq");
  ASSERT_EQ(letters.size(), poison.size()) << "each exactly once, at read_committed";
  for (auto& r : letters) {
    EXPECT_TRUE(poison.count(r.value)) << r.value;
    EXPECT_EQ(r.headers["kactor.dlq.attempts"], "3") << "1 attempt + 2 retries, across aborts";
    EXPECT_EQ(r.headers["kactor.dlq.error.class"], "retriable");
  }
}

TEST(exactly_once_kafka, the_fraud_example_killed_midway_still_decides_each_transaction_once) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto prefix = test::unique_name("bank") + ".", dir = test::binary_dir();
  test::create_topic(brokers, prefix + "transactions.pending", 4);
  test::create_topic(brokers, prefix + "fraud.decisions", 4);
  std::vector<std::pair<std::string, std::string>> txs;
  for (int i = 0; i < 20000; ++i)
    txs.emplace_back("card-" + std::to_string(i % 50),
                     "tx-" + std::to_string(i) + ":" + std::to_string((i * 7919) % 10000));
  test::produce_all(brokers, prefix + "transactions.pending", txs);

  auto detector = [&](const std::string& name) {
    return std::make_unique<test::child_process>(
        std::vector<std::string>{std::getenv("KACTOR_FRAUD_EXE"), "--brokers", brokers, "--prefix",
                                 prefix, "--stats", dir + "/" + prefix + name + ".json", "--set",
                                 "consumer.session.timeout.ms=6000", "--set",
                                 "consumer.heartbeat.interval.ms=500"},
        dir + "/" + prefix + name + ".log");
  };
  auto processed = [&](const std::string& name) {
    auto j =
        nlohmann::json::parse(test::read_file(dir + "/" + prefix + name + ".json"), nullptr, false);
    std::uint64_t n = 0;
    if (j.is_discarded() || !j.contains("agents") || j["agents"].empty()) return n;
    for (auto& p : j["agents"][0]["partitions"]) n += p["processed"].get<std::uint64_t>();
    return n;
  };
  auto first = detector("first");
  ASSERT_TRUE(test::eventually([&] { return processed("first") > 3000; }));
  first->signal(SIGKILL);  // mid-transaction, most likely
  ASSERT_EQ(first->wait(std::chrono::seconds(10)), 128 + SIGKILL);
  auto second = detector("second");
  // Joined (its stats say it holds partitions) before anything else: had the
  // first process handled everything before its kill, the group is caught up
  // at once, and a SIGTERM before the second installed its handlers ended it
  // with 143 instead of a clean stop (seen once in CI).
  ASSERT_TRUE(test::eventually(
      [&] {
        auto j = nlohmann::json::parse(test::read_file(dir + "/" + prefix + "second.json"), nullptr,
                                       false);
        if (j.is_discarded() || !j.contains("agents") || j["agents"].empty()) return false;
        for (auto& p : j["agents"][0]["partitions"])
          if (p["assigned"].get<bool>()) return true;
        return false;
      },
      std::chrono::seconds(60)));
  ASSERT_TRUE(test::eventually(
      [&] {
        return test::group_caught_up(brokers, prefix + "fraud-detector",
                                     prefix + "transactions.pending", 4);
      },
      std::chrono::seconds(120)));
  second->signal(SIGTERM);
  ASSERT_EQ(second->wait(std::chrono::seconds(60)), 0);

  // The killed process's open transaction holds read_committed readers back
  // until the broker aborts it (transaction.timeout.ms, 10 s): read_all waits.
  std::map<std::string, int> seen;
  for (auto& r : test::read_all(brokers, prefix + "fraud.decisions", std::chrono::seconds(90)))
    ++seen[r.value];
  ASSERT_EQ(seen.size(), txs.size()) << "one decision per transaction";
  for (auto& [value, n] : seen) EXPECT_EQ(n, 1) << value;
  for (auto& [card, tx] : txs) {
    const auto id = tx.substr(0, tx.find(':'));
    const bool block = std::stol(tx.substr(tx.find(':') + 1)) > 9000;
    EXPECT_EQ(seen.count(id + (block ? ":block" : ":allow")), 1u) << id;
  }
}

}  // namespace

/// Agents reading a topic written by transactions: each transaction ends
/// with a commit marker librdkafka consumes but never hands out. Once the
/// reader has handled everything, its group's committed offsets are at the
/// partitions' ends (past the last markers) and its stats show lag 0, as a
/// Java consumer's would: an idle partition does not show lag 1 forever.
class markers : public ::testing::TestWithParam<processing_guarantee> {};

TEST_P(markers, a_reader_of_a_transactional_topic_commits_past_its_commit_markers) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("markers-in"), mid = in + ".mid", group = in + "-reader";
  test::create_topic(brokers, in, 3);
  test::create_topic(brokers, mid, 3);
  test::produce_all(brokers, in, test::sequenced(3000, 30));
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = std::chrono::milliseconds(100);
  runtime rt(cfg);
  rt.agent("writer")
      .consume(in)
      .group(in + "-writer")
      .exactly_once()
      .on([&](const event& e, context& ctx) { ctx.emit(mid, e.key(), e.value()); });
  auto reader = rt.agent("reader").consume(mid).group(group);
  if (GetParam() == processing_guarantee::exactly_once) reader.exactly_once();
  std::atomic<int> read{0};
  reader.on([&](const event&, context&) { ++read; });
  rt.start();
  ASSERT_TRUE(test::eventually([&] { return read.load() >= 3000; }, std::chrono::seconds(120)));
  ASSERT_TRUE(test::eventually([&] { return test::transactions_settled(brokers, mid); },
                               std::chrono::seconds(60)));
  EXPECT_TRUE(test::eventually([&] { return test::group_caught_up(brokers, group, mid, 3); },
                               std::chrono::seconds(30)))
      << "the reader's commits stopped short of its partitions' last commit markers";
  EXPECT_TRUE(test::eventually(
      [&] {
        for (const auto& a : rt.stats().agents)
          if (a.name == "reader")
            for (const auto& p : a.partitions)
              if (p.lag() != 0) return false;
        return true;
      },
      std::chrono::seconds(10)));
  rt.stop();
  EXPECT_EQ(read.load(), 3000);
}

INSTANTIATE_TEST_SUITE_P(guarantees, markers,
                         ::testing::Values(processing_guarantee::at_least_once,
                                           processing_guarantee::exactly_once),
                         [](const auto& info) { return std::string(to_string(info.param)); });
