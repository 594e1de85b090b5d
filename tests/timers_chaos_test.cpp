// Durable timers and requests through SIGKILLs and task moves on the real
// broker, exactly_once: every timer fires once; a request whose requester
// was killed before its reply came gets that reply after the restart; a
// request nobody answers times out once; a reply racing its timeout yields
// exactly one of the two. Outputs are read at read_committed.

#include <csignal>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/cli/child_process.hpp"
#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

constexpr int kPartitions = 4;

struct timers_chaos : ::testing::Test {
  std::string brokers = test::kafka_bootstrap();
  std::string dir = test::binary_dir();
  std::string base = test::unique_name("timers"), out = base + ".out", group = base + "-g";
  test::temp_dir state;
  std::map<std::string, int> starts_;

  void SetUp() override {
    ASSERT_FALSE(brokers.empty());
    test::create_topic(brokers, out, kPartitions);
  }

  /// A worker process named `name` (its own state directory and log).
  std::unique_ptr<test::child_process> worker(const std::string& name,
                                              std::vector<std::string> extra) {
    std::vector<std::string> argv{std::getenv("KACTOR_TIMERS_WORKER_EXE"),
                                  "--brokers",
                                  brokers,
                                  "--out",
                                  out,
                                  "--group",
                                  group,
                                  "--set",
                                  "state_dir=" + state.path + "/" + name,
                                  "--set",
                                  "consumer.session.timeout.ms=6000",
                                  "--set",
                                  "consumer.heartbeat.interval.ms=500"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto log = dir + "/" + base + "." + name + "." + std::to_string(++starts_[name]) + ".log";
    return std::make_unique<test::child_process>(argv, log);
  }

  /// Outputs by key: at read_uncommitted while running (progress only), at
  /// read_committed for the verdict.
  std::map<std::string, std::vector<std::string>> outputs(const std::string& isolation) {
    std::map<std::string, std::vector<std::string>> by_key;
    for (auto& r : test::read_all(brokers, out, 120s, isolation))
      by_key[r.key].push_back(std::move(r.value));
    return by_key;
  }

  std::size_t count(const std::string& isolation) {
    std::size_t n = 0;
    for (const auto& [k, v] : outputs(isolation)) n += v.size();
    return n;
  }
};

TEST_F(timers_chaos, timers_fire_once_through_a_kill_and_a_task_move) {
  const auto in = base + ".in";
  test::create_topic(brokers, in, kPartitions);
  constexpr int kTimers = 400;
  std::vector<std::pair<std::string, std::string>> records;
  // Due from 0.5 to 8.5 s after they are handled: pending across the kill
  // and the move.
  for (int i = 0; i < kTimers; ++i)
    records.emplace_back("k" + std::to_string(i), std::to_string(500 + (i * 37) % 8000));
  // Produced first: the workers need the input's metadata to size their
  // internal topics.
  test::produce_all(brokers, in, records);
  auto a = worker("a", {"--in", in});
  auto b = worker("b", {"--in", in});
  ASSERT_TRUE(test::eventually([&] { return count("read_uncommitted") >= 60; }, 120s));
  a->signal(SIGKILL);
  a->wait(30s);
  a = worker("a", {"--in", in});
  ASSERT_TRUE(test::eventually([&] { return count("read_uncommitted") >= 200; }, 120s));
  // b leaves: its tasks, with their pending timers, move to a.
  b->signal(SIGTERM);
  EXPECT_EQ(b->wait(60s), 0);
  ASSERT_TRUE(test::eventually(
      [&] { return outputs("read_uncommitted").size() == static_cast<std::size_t>(kTimers); },
      120s));
  const auto fired = outputs("read_committed");
  EXPECT_EQ(fired.size(), static_cast<std::size_t>(kTimers));
  int twice = 0;
  for (const auto& [key, values] : fired) {
    twice += values.size() > 1 ? 1 : 0;
    EXPECT_EQ(values.size(), 1u) << key;
  }
  EXPECT_EQ(twice, 0);
  a->signal(SIGTERM);
  EXPECT_EQ(a->wait(60s), 0);
}

/// The requests the asker sent, as committed: key → (correlation id, reply
/// partition).
std::map<std::string, std::pair<std::string, int>> committed_requests(const std::string& brokers,
                                                                      const std::string& topic) {
  std::map<std::string, std::pair<std::string, int>> out;
  for (const auto& r : test::read_all(brokers, topic, 120s))
    out[r.key] = {r.headers.at("kactor.correlation_id"),
                  std::stoi(r.headers.at("kactor.reply_partition"))};
  return out;
}

/// Answers a request as a responder would: to the partition it names, with its id.
void answer(rd_kafka_t* rk, const std::string& topic, const std::string& key,
            const std::pair<std::string, int>& request) {
  const std::string value = "answer-" + key;
  ASSERT_EQ(rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(request.second),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                RD_KAFKA_V_HEADER("kactor.correlation_id", request.first.data(),
                                  static_cast<ssize_t>(request.first.size())),
                RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
}

TEST_F(timers_chaos, each_request_gets_one_reply_or_one_timeout_through_a_kill) {
  const auto asks = base + ".asks", questions = base + ".questions", replies = base + ".replies";
  test::create_topic(brokers, asks, 2);
  test::create_topic(brokers, questions, 2);
  auto rk = detail::make_client(RD_KAFKA_PRODUCER,
                                detail::make_conf({{"", "bootstrap.servers", brokers}}));
  const std::vector<std::string> args{"--asks",        asks,   "--questions", questions,
                                      "--reply-topic", replies};
  // a*: answered while the asker is dead; n*: never answered (2 s timeout).
  std::vector<std::pair<std::string, std::string>> first;
  for (int i = 0; i < 20; ++i) first.emplace_back("a" + std::to_string(i), "120000");
  for (int i = 0; i < 20; ++i) first.emplace_back("n" + std::to_string(i), "2000");
  test::produce_all(brokers, asks, first);
  auto w = worker("asker", args);
  std::map<std::string, std::pair<std::string, int>> sent;
  ASSERT_TRUE(test::eventually(
      [&] { return (sent = committed_requests(brokers, questions)).size() == 40; }, 120s));
  w->signal(SIGKILL);
  w->wait(30s);
  for (int i = 0; i < 20; ++i) {
    const auto key = "a" + std::to_string(i);
    answer(rk.get(), replies, key, sent.at(key));
  }
  ASSERT_EQ(rd_kafka_flush(rk.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  w = worker("asker", args);
  // r*: 3 s timeouts answered from 0.5 to 5.25 s after they were read: some
  // replies come before their timeout, some after, some at about the same
  // time. The sleeps below make that race; nothing waits on them.
  std::vector<std::pair<std::string, std::string>> racing;
  for (int i = 0; i < 20; ++i) racing.emplace_back("r" + std::to_string(i), "3000");
  test::produce_all(brokers, asks, racing);
  ASSERT_TRUE(test::eventually(
      [&] { return (sent = committed_requests(brokers, questions)).size() == 60; }, 120s));
  const auto read_at = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_until(read_at + std::chrono::milliseconds(500 + 250 * i));
    const auto key = "r" + std::to_string(i);
    answer(rk.get(), replies, key, sent.at(key));
    rd_kafka_poll(rk.get(), 0);
  }
  ASSERT_EQ(rd_kafka_flush(rk.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(test::eventually([&] { return outputs("read_uncommitted").size() == 60; }, 120s));
  const auto answers = outputs("read_committed");
  ASSERT_EQ(answers.size(), 60u);
  int replied = 0, timed_out = 0;
  for (const auto& [key, values] : answers) {
    ASSERT_EQ(values.size(), 1u) << key << ": exactly one of a reply and a timeout";
    const auto& v = values[0];
    if (key[0] == 'a') EXPECT_EQ(v, "reply:answer-" + key) << "answered while the asker was dead";
    if (key[0] == 'n') EXPECT_EQ(v, "timeout") << key;
    if (key[0] == 'r') {
      EXPECT_TRUE(v == "timeout" || v == "reply:answer-" + key) << key << ": " << v;
      (v == "timeout" ? timed_out : replied) += 1;
    }
  }
  std::printf("racing requests: %d replied, %d timed out\n", replied, timed_out);
  w->signal(SIGTERM);
  EXPECT_EQ(w->wait(60s), 0);
}

}  // namespace
