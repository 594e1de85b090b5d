// State stores on librdkafka's embedded mock cluster: a handler's writes
// reach the local store and the changelog, a task holds partition p of every
// input with its stores, an unknown store dead-letters the record, and
// unusable setups are refused at start. Restores across
// processes need topics that outlive a runtime: task_stores_kafka_test.

#include <kactor/kactor.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <caf/event_based_actor.hpp>

#include "state/checkpoint.hpp"
#include "state/rocks_store.hpp"
#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;

using state_dir = test::temp_dir;

runtime_config mock_config(const std::string& dir) {
  runtime_config cfg;
  cfg.commit_interval = std::chrono::milliseconds(100);
  cfg.state_dir = dir;
  return cfg;
}

/// Counts records per key in the store "counts"; a record valued "reset"
/// deletes its key. Emits each new count to "counts.out".
void count_words(runtime& rt) {
  rt.agent("counter").consume("words").store("counts").on([](const event& e, context& ctx) {
    auto& counts = ctx.kv("counts");
    if (e.value() == "reset") {
      counts.del(e.key());
      return;
    }
    const auto before = counts.get(e.key());
    const auto n = std::to_string(before ? std::stoll(*before) + 1 : 1);
    counts.put(e.key(), n);
    ctx.emit("counts.out", e.key(), n);
  });
}

std::uint64_t finished(runtime& rt) {
  return rt.stats().finished();
}

/// The agent's stored offsets, summed: an offset is stored only once the
/// record's outputs and changelog writes are acknowledged.
std::int64_t stored(runtime& rt) {
  std::int64_t sum = 0;
  const auto stats = rt.stats();
  for (const auto& p : stats.agents.at(0).partitions)
    sum += std::max<std::int64_t>(0, p.stored_offset);
  return sum;
}

TEST(task_stores_mock, writes_reach_the_local_store_and_the_changelog) {
  state_dir dir;
  std::map<std::string, long long> oracle;
  {
    runtime rt(mock_config(dir.path));
    rt.create_topic("words", 4);
    rt.create_topic("counts.out", 4);
    count_words(rt);
    for (int i = 0; i < 3000; ++i) {
      const auto key = "w" + std::to_string(i % 50);
      rt.emit("words", key, "x");
      ++oracle[key];
    }
    for (int k = 0; k < 5; ++k) {
      rt.emit("words", "w" + std::to_string(k), "reset");
      oracle.erase("w" + std::to_string(k));
    }
    ASSERT_TRUE(rt.flush(std::chrono::seconds(30)));
    rt.start();
    ASSERT_TRUE(test::eventually([&] { return finished(rt) == 3005 && stored(rt) == 3005; }))
        << "finished " << finished(rt) << ", stored " << stored(rt);

    // The changelog holds every write; its last record per key is the store's value.
    std::map<std::string, std::string> changelog;
    for (auto& r : test::read_all(rt.bootstrap_servers(), "counter-counts-changelog",
                                  std::chrono::seconds(30), "read_uncommitted"))
      changelog[r.key] = r.value;
    for (const auto& [key, n] : oracle) EXPECT_EQ(changelog[key], std::to_string(n)) << key;
    for (int k = 0; k < 5; ++k)
      EXPECT_EQ(changelog["w" + std::to_string(k)], "") << "a delete is a tombstone";
    rt.stop();
  }
  // After a clean stop each partition's store is on disk with a checkpoint.
  detail::store_memory memory(8 << 20);
  std::map<std::string, long long> stored;
  for (int p = 0; p < 4; ++p) {
    const auto db_dir = dir.path + "/counter/counts/" + std::to_string(p);
    EXPECT_TRUE(detail::read_checkpoint(db_dir + ".checkpoint").offset) << db_dir;
    auto db = detail::rocks_store::open(db_dir, memory);
    db->range("", "", [&](std::string_view k, std::string_view v) {
      stored[std::string(k)] = std::stoll(std::string(v));
      return true;
    });
  }
  EXPECT_EQ(stored, oracle);
}

TEST(task_stores_mock, a_task_holds_partition_p_of_every_input_with_its_stores) {
  state_dir dir;
  runtime rt(mock_config(dir.path));
  rt.create_topic("orders", 3);
  rt.create_topic("payments", 3);
  std::mutex mx;
  // Per partition number: the actors that handled its records, and the topics seen.
  std::map<std::int32_t, std::set<caf::actor_id>> actors;
  std::map<std::int32_t, std::set<std::string>> topics;
  rt.agent("balance")
      .consume("orders")
      .consume("payments")
      .store("due")
      .on([&](const event& e, context& ctx) {
        {
          std::lock_guard lock(mx);
          actors[e.partition().value()].insert(ctx.self()->id());
          topics[e.partition().value()].insert(std::string(ctx.source().topic));
        }
        EXPECT_EQ(ctx.source().topic, e.topic());
        EXPECT_EQ(ctx.source().partition, e.partition());
        auto& due = ctx.kv("due");
        const auto before = due.get(e.key());
        const long long amount = std::stoll(std::string(e.value()));
        const long long sign = e.topic() == "orders" ? 1 : -1;
        due.put(e.key(), std::to_string((before ? std::stoll(*before) : 0) + sign * amount));
      });
  std::map<std::string, long long> oracle;
  for (int i = 0; i < 600; ++i) {
    const auto key = "c" + std::to_string(i % 30);
    rt.emit("orders", key, std::to_string(i));
    oracle[key] += i;
    if (i % 3 == 0) {
      rt.emit("payments", key, std::to_string(i / 3));
      oracle[key] -= i / 3;
    }
  }
  ASSERT_TRUE(rt.flush(std::chrono::seconds(30)));
  rt.start();
  // Each input partition stores its own offsets (after the changelog's acks).
  ASSERT_TRUE(test::eventually([&] { return finished(rt) == 800 && stored(rt) == 800; }))
      << "finished " << finished(rt) << ", stored " << stored(rt);
  EXPECT_EQ(rt.stats().agents[0].partitions.size(), 6u);
  {
    std::lock_guard lock(mx);
    ASSERT_EQ(actors.size(), 3u);
    for (const auto& [p, ids] : actors) {
      EXPECT_EQ(ids.size(), 1u) << "partition " << p << " of both inputs on one actor";
      EXPECT_EQ(topics[p], (std::set<std::string>{"orders", "payments"})) << p;
    }
  }
  // One store per task, over both inputs: the changelog's last value per key.
  std::map<std::string, long long> changelog;
  for (auto& r : test::read_all(rt.bootstrap_servers(), "balance-due-changelog",
                                std::chrono::seconds(30), "read_uncommitted"))
    changelog[r.key] = std::stoll(r.value);
  EXPECT_EQ(changelog, oracle);
}

TEST(task_stores_mock, a_store_the_agent_did_not_declare_dead_letters_the_record) {
  state_dir dir;
  runtime rt(mock_config(dir.path));
  rt.create_topic("in", 1);
  std::atomic<int> handled{0};
  rt.agent("a").consume("in").store("known").on([&](const event& e, context& ctx) {
    if (e.value() == "bad") ctx.kv("nope");
    ctx.kv("known").put(e.key(), e.value());
    ++handled;
  });
  rt.emit("in", "k1", "bad");
  rt.emit("in", "k2", "good");
  ASSERT_TRUE(rt.flush(std::chrono::seconds(30)));
  rt.start();
  ASSERT_TRUE(test::eventually([&] { return handled == 1 && finished(rt) == 2; }));
  ASSERT_TRUE(
      test::eventually([&] { return rt.stats().agents[0].partitions[0].dead_lettered == 1; }));
  auto letters =
      test::read_all(rt.bootstrap_servers(), "a.dlq", std::chrono::seconds(30), "read_uncommitted");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].key, "k1");
  const auto& why = letters[0].headers["kactor.dlq.error.message"];
  EXPECT_NE(why.find("no store 'nope'"), std::string::npos) << why;
  EXPECT_NE(why.find("declared: known"), std::string::npos) << why;
}

TEST(task_stores_mock, unusable_setups_are_refused_at_start_naming_the_key) {
  state_dir dir;
  {
    runtime rt(mock_config(dir.path));
    rt.create_topic("a", 2);
    rt.create_topic("b", 3);
    rt.agent("two").consume("a").consume("b").store("s").on([](const event&, context&) {});
    try {
      rt.start();
      FAIL() << "inputs of 2 and 3 partitions started as tasks";
    } catch (const config_error& e) {
      EXPECT_EQ(e.key(), "agents.two.topics");
      const std::string what = e.what();
      EXPECT_NE(what.find("co-partitioned"), std::string::npos) << what;
      EXPECT_NE(what.find("a has 2 partition(s), b has 3 partition(s)"), std::string::npos) << what;
    }
  }
  {
    runtime rt(mock_config(dir.path));
    rt.agent("lost").consume("absent").store("s").on([](const event&, context&) {});
    try {
      rt.start();
      FAIL() << "started without its input topic";
    } catch (const config_error& e) {
      EXPECT_EQ(e.key(), "agents.lost.stores");
      EXPECT_NE(std::string(e.what()).find("'absent' does not exist"), std::string::npos)
          << e.what();
    }
  }
  {
    runtime first(mock_config(dir.path));
    first.create_topic("in", 1);
    first.agent("owner").consume("in").store("s").on([](const event&, context&) {});
    first.start();
    // A second process (here: runtime) on the same state directory is refused.
    runtime second(mock_config(dir.path));
    second.create_topic("in", 1);
    second.agent("owner").consume("in").store("s").on([](const event&, context&) {});
    try {
      second.start();
      FAIL() << "two runtimes share one state directory";
    } catch (const config_error& e) {
      EXPECT_EQ(e.key(), "state_dir");
      EXPECT_NE(std::string(e.what()).find("in use by another live process"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
