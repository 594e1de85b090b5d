// Dead letters on the real broker: poison records of every kind end up in the
// DLQ exactly once with their context, good records are all processed and
// other partitions are never blocked by a partition retrying; a crash between
// a DLQ write and the offset commit loses nothing; a re-drive after the fix
// processes the dead letters and a second re-drive moves nothing.

#include <kactor/dead_letter.hpp>
#include <kactor/kactor.hpp>

#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kactor_test.pb.h"
#include "src/kafka/admin.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using json = nlohmann::json;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string task(int i, const std::string& tag = "") {
  kactor::test::Task t;
  t.set_id("task-" + std::to_string(i));
  t.set_amount(i);
  if (!tag.empty()) t.add_tags(tag);
  return t.SerializeAsString();
}

TEST(dead_letter_kafka, poison_records_reach_the_dlq_once_with_context_and_block_no_one) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("poisoned"), out = in + ".out", dlq = in + ".dlq";
  test::create_topic(brokers, in, 4);
  test::create_topic(brokers, out, 4);

  // 10k good records with poison of each kind spread over the partitions.
  std::map<std::string, std::string> poison;  // key -> kind
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 10000; ++i) {
    const auto key = "k" + std::to_string(i);
    if (i % 1000 == 11) {
      records.emplace_back(key, std::string("\xff\xff\xff\xff\x0f", 5));
      poison[key] = "bad-protobuf";
    } else if (i % 1000 == 512) {
      records.emplace_back(key, task(i, "throw"));
      poison[key] = "throws";
    } else if (i % 1000 == 777) {
      records.emplace_back(key, task(i, "big"));
      poison[key] = "oversized";
    } else {
      records.emplace_back(key, task(i));
    }
  }
  test::produce_all(brokers, in, records);

  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = std::chrono::milliseconds(200);
  runtime rt(cfg);
  supervision_policy policy;
  policy.max_retries = 2;
  policy.backoff_base = std::chrono::milliseconds(50);
  policy.backoff_max = std::chrono::milliseconds(200);
  policy.dlq_topic = dlq;
  std::mutex mx;
  std::vector<std::pair<int, std::int64_t>> handled;  // partition, wall ms
  std::set<std::string> good_done;
  rt.agent("enricher")
      .consume(in)
      .max_poll_records(100)
      .supervision(policy)
      .on([&](const event& e, context& ctx) {
        auto t = e.as<kactor::test::Task>();
        {
          std::lock_guard lock(mx);
          handled.emplace_back(e.partition().value(), wall_ms());
        }
        for (const auto& tag : t.tags()) {
          if (tag == "throw") throw std::runtime_error("enrichment service unavailable");
          if (tag == "big") ctx.emit(out, e.key(), std::string(2 << 20, 'x'));  // over 1 MB
        }
        ctx.emit(out, e.key(), t.id());
        std::lock_guard lock(mx);
        good_done.insert(t.id());
      });
  rt.start();

  // Keep feeding good records so every partition has work while one retries.
  std::atomic<bool> feeding{true};
  std::atomic<int> tail{0};
  std::thread feeder([&] {
    while (feeding) {
      for (int j = 0; j < 10; ++j, ++tail)
        rt.emit(in, "tail" + std::to_string(tail.load()), task(100000 + tail.load()));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // pacing the load, ~10k/s
    }
    rt.flush(std::chrono::seconds(30));
  });
  auto dead_lettered = [&] {
    std::uint64_t n = 0;
    const auto rt_stats = rt.stats();
    for (auto& p : rt_stats.agents[0].partitions) n += p.dead_lettered;
    return n;
  };
  const bool all_dead = test::eventually([&] { return dead_lettered() == poison.size(); });
  feeding = false;
  feeder.join();
  ASSERT_TRUE(all_dead) << dead_lettered() << " of " << poison.size() << " dead-lettered";
  const std::size_t good_total = 10000 - poison.size() + static_cast<std::size_t>(tail.load());
  ASSERT_TRUE(test::eventually([&] {
    std::lock_guard lock(mx);
    return good_done.size() == good_total;
  })) << "good records processed: "
      << good_done.size() << " of " << good_total;
  auto stats = rt.stats();
  rt.stop();

  EXPECT_TRUE(stats.agents[0].healthy);
  for (auto& p : stats.agents[0].partitions) EXPECT_LE(p.restarts, policy.max_restarts);

  auto letters = test::read_all(brokers, dlq);
  ASSERT_EQ(letters.size(), poison.size()) << "every poison record exactly once";
  std::map<std::string, test::record> by_key;
  for (auto& r : letters) by_key[r.key] = r;
  struct window {
    int partition;
    std::int64_t from, to;
  };
  std::vector<window> retry_windows;
  for (const auto& [key, kind] : poison) {
    ASSERT_EQ(by_key.count(key), 1u) << key;
    auto& r = by_key[key];
    auto h = [&](std::string_view name) { return r.headers[std::string(name)]; };
    const auto& original = std::find_if(records.begin(), records.end(), [&](auto& x) {
                             return x.first == key;
                           })->second;
    EXPECT_EQ(r.value, original) << "value byte for byte: " << key;
    EXPECT_EQ(h(dlq_header::source_topic), in);
    EXPECT_FALSE(h(dlq_header::source_partition).empty());
    EXPECT_FALSE(h(dlq_header::source_offset).empty());
    EXPECT_FALSE(h(dlq_header::source_timestamp).empty());
    EXPECT_EQ(h(dlq_header::agent), "enricher");
    EXPECT_FALSE(h(dlq_header::error_message).empty());
    if (kind == "throws") {
      EXPECT_EQ(h(dlq_header::error_class), "retriable") << key;
      EXPECT_EQ(h(dlq_header::attempts), "3") << key;
      retry_windows.push_back({std::stoi(h(dlq_header::source_partition)),
                               std::stoll(h(dlq_header::first_failure_ms)),
                               std::stoll(h(dlq_header::last_failure_ms))});
    } else {
      EXPECT_EQ(h(dlq_header::error_class), "irrecoverable") << key << " (" << kind << ")";
      EXPECT_EQ(h(dlq_header::attempts), "1") << key;
    }
  }
  // While a partition waited on a retry, the others went on.
  std::lock_guard lock(mx);
  for (const auto& w : retry_windows) {
    std::size_t others = 0;
    for (auto [p, t] : handled) others += (p != w.partition && t > w.from && t < w.to) ? 1 : 0;
    EXPECT_GT(others, 0u) << "records of other partitions handled while partition " << w.partition
                          << " waited " << w.to - w.from << " ms on retries";
  }
}

struct orders_run {
  std::string brokers, prefix, dir;
  std::vector<std::pair<std::string, std::string>> orders;
  std::set<std::string> declined;

  std::unique_ptr<test::child_process> start(const std::string& name,
                                             std::vector<std::string> extra = {},
                                             std::vector<std::string> env = {}) {
    std::vector<std::string> argv{std::getenv("KACTOR_ORDERS_DLQ_EXE"),
                                  "--brokers",
                                  brokers,
                                  "--prefix",
                                  prefix,
                                  "--stats",
                                  dir + "/" + prefix + name + ".json",
                                  "--set",
                                  "commit_interval_ms=200",
                                  "--set",
                                  "consumer.session.timeout.ms=6000",
                                  "--set",
                                  "consumer.heartbeat.interval.ms=500"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<test::child_process>(argv, dir + "/" + prefix + name + ".log", env);
  }
  bool caught_up(const std::string& group, const std::string& topic, int partitions) {
    return test::group_caught_up(brokers, prefix + group, prefix + topic, partitions);
  }
};

TEST(dead_letter_kafka,
     a_crash_between_dlq_write_and_commit_loses_nothing_and_redrive_finishes_the_job) {
  orders_run run;
  run.brokers = test::kafka_bootstrap();
  ASSERT_FALSE(run.brokers.empty());
  run.prefix = test::unique_name("shop") + ".";
  run.dir = test::binary_dir();
  test::create_topic(run.brokers, run.prefix + "orders.pending", 4);
  test::create_topic(run.brokers, run.prefix + "orders.completed", 4);
  test::create_topic(run.brokers, run.prefix + "orders.failed", 1);
  for (int i = 0; i < 300; ++i) {
    const char* card = i % 10 == 3 ? "declined" : i % 10 == 7 ? "flaky" : "visa";
    const auto id = "order-" + std::to_string(i);
    run.orders.emplace_back("c" + std::to_string(i % 17),
                            id + ":" + std::to_string(i) + ":" + card);
    if (i % 10 == 3) run.declined.insert(id);
  }
  test::produce_all(run.brokers, run.prefix + "orders.pending", run.orders);

  // Dies right after its first dead letter is acknowledged, before any commit.
  auto crashing = run.start("crashing", {}, {"KACTOR_FAILPOINTS=dead_letter_acked"});
  EXPECT_EQ(crashing->wait(std::chrono::seconds(60)), 137) << "the failpoint fired";

  auto again = run.start("again");
  ASSERT_TRUE(test::eventually([&] { return run.caught_up("payments", "orders.pending", 4); },
                               std::chrono::seconds(90)));
  again->signal(SIGTERM);
  ASSERT_EQ(again->wait(std::chrono::seconds(60)), 0);

  auto id_of = [](const std::string& v) { return v.substr(0, v.find(':')); };
  std::set<std::string> completed, failed;
  for (auto& r : test::read_all(run.brokers, run.prefix + "orders.completed"))
    completed.insert(id_of(r.value));
  auto letters = test::read_all(run.brokers, run.prefix + "orders.failed");
  for (auto& r : letters) failed.insert(id_of(r.value));
  EXPECT_EQ(failed, run.declined) << "every declined order is in the DLQ";
  EXPECT_GE(letters.size(), run.declined.size()) << "at-least-once: the crash may duplicate one";
  for (auto& [key, value] : run.orders) {
    auto id = id_of(value);
    EXPECT_TRUE(completed.count(id) || failed.count(id)) << id << " lost";
  }
  RecordProperty("dlq_duplicates", static_cast<int>(letters.size() - failed.size()));

  // The fix ships; the operator re-drives the DLQ.
  const std::string cli = std::getenv("KACTOR_CLI_EXE");
  const auto dlq = run.prefix + "orders.failed";
  auto redrive = [&](const std::string& log) {
    test::child_process p({cli, "dlq", "redrive", "--brokers", run.brokers, "--dlq", dlq},
                          run.dir + "/" + log);
    return p.wait(std::chrono::seconds(60));
  };
  ASSERT_EQ(redrive(run.prefix + "redrive1.log"), 0);
  auto fixed = run.start("fixed", {"--accept-declined"});
  ASSERT_TRUE(test::eventually(
      [&] {
        std::set<std::string> done;
        for (auto& r : test::read_all(run.brokers, run.prefix + "orders.completed"))
          done.insert(id_of(r.value));
        return std::includes(done.begin(), done.end(), run.declined.begin(), run.declined.end());
      },
      std::chrono::seconds(90)))
      << "re-driven orders were processed by the fixed agent";
  EXPECT_TRUE(test::eventually([&] { return run.caught_up("payments", "orders.pending", 4); }))
      << "the fixed agent commits what it processed";
  fixed->signal(SIGTERM);
  EXPECT_EQ(fixed->wait(std::chrono::seconds(60)), 0);
  EXPECT_EQ(
      detail::query_group_lag(run.brokers, "kactor-redrive." + dlq, std::chrono::seconds(5)).total,
      0)
      << "the re-drive group consumed the whole DLQ";
  // A second re-drive moves nothing: the pending topic does not grow.
  auto end_of_pending = [&] {
    std::int64_t total = 0;
    for (auto& r : test::read_all(run.brokers, run.prefix + "orders.pending")) total += 1;
    return total;
  };
  const auto before = end_of_pending();
  ASSERT_EQ(redrive(run.prefix + "redrive2.log"), 0);
  EXPECT_EQ(end_of_pending(), before);
}

}  // namespace
