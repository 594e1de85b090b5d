// Tasks over co-partitioned inputs on the real broker: an agent with state
// stores and two input topics gets partition p of both on one partition
// actor, with its store, through members joining and leaving; inputs whose
// partition counts come apart make the agent unhealthy, naming them.
// (co_assignment_kafka_test shows the librdkafka mechanism on its own,
// including a member's crash.)

#include <kactor/kactor.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <gtest/gtest.h>
#include <caf/event_based_actor.hpp>

#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

constexpr int kPartitions = 4;

/// The balance agent: orders add their amount to the key's balance in the
/// store "due", payments subtract theirs; each new balance goes to `out`.
void keep_balance(runtime& rt, const std::string& orders, const std::string& payments,
                  const std::string& group, const std::string& out,
                  const std::function<void(const event&, context&)>& seen,
                  processing_guarantee guarantee = processing_guarantee::at_least_once) {
  auto agent = rt.agent("balance");
  agent.consume(orders).consume(payments).group(group).store("due");
  if (guarantee == processing_guarantee::exactly_once) agent.exactly_once(100ms);
  agent.on([=](const event& e, context& ctx) {
    seen(e, ctx);
    auto& due = ctx.kv("due");
    const auto before = due.get(e.key());
    const long long amount = std::stoll(std::string(e.value()));
    const long long now =
        (before ? std::stoll(*before) : 0) + (e.topic() == orders ? amount : -amount);
    due.put(e.key(), std::to_string(now));
    ctx.emit(out, e.key(), std::to_string(now));
  });
}

class co_partitioned_kafka_moves : public ::testing::TestWithParam<processing_guarantee> {};

TEST_P(co_partitioned_kafka_moves,
       a_task_holds_partition_p_of_both_inputs_and_its_store_as_members_change) {
  constexpr int kKeys = 200;
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto orders = test::unique_name("orders"), payments = test::unique_name("payments"),
             out = test::unique_name("due"), group = test::unique_name("balance");
  for (const auto& t : {orders, payments, out}) test::create_topic(brokers, t, kPartitions);
  const test::temp_dir state{"co_partitioned"};

  // Who handled what: per (member, actor), the partition numbers and topics
  // of its records.
  std::mutex mx;
  std::map<std::pair<std::string, caf::actor_id>, std::set<int>> numbers;
  std::map<std::pair<std::string, caf::actor_id>, std::set<std::string>> topics;
  // Records handled by any member (some twice after an exactly_once abort):
  // the feed waits on it.
  std::condition_variable handled_cv;
  std::int64_t handled = 0;
  auto member = [&](const std::string& name) {
    runtime_config cfg;
    cfg.brokers = brokers;
    cfg.commit_interval = 200ms;
    cfg.state_dir = state.path + "/" + name;
    cfg.consumer["heartbeat.interval.ms"] = "500";
    auto rt = std::make_unique<runtime>(cfg);
    keep_balance(
        *rt, orders, payments, group, out,
        [&, name](const event& e, context& ctx) {
          std::lock_guard lock(mx);
          const auto who = std::make_pair(name, ctx.self()->id());
          numbers[who].insert(e.partition().value());
          topics[who].insert(std::string(e.topic()));
          ++handled;
          handled_cv.notify_all();
        },
        GetParam());
    return rt;
  };
  auto holds = [](runtime& rt) {
    std::set<std::string> held;
    const auto stats = rt.stats();
    for (const auto& p : stats.agents.at(0).partitions)
      if (p.assigned) held.insert(p.tp.topic + "/" + std::to_string(p.tp.partition.value()));
    return held;
  };
  auto settled = [&](std::initializer_list<runtime*> members) {
    std::size_t held = 0;
    for (auto* m : members) {
      const auto s = m->stats().agents.at(0);
      if (!s.ready) return false;
      held += holds(*m).size();
    }
    return held == 2 * kPartitions;
  };

  // Orders and payments for the same keys, so partition p of each input
  // carries the same customers. A round goes out once the one before last
  // is handled: records keep flowing through every rebalance without
  // piling up while a member restores.
  std::mutex oracle_mx;
  std::map<std::string, long long> oracle;
  std::atomic<bool> feeding{true};
  std::thread feeder;
  auto stop_feeding = [&] {
    {
      std::lock_guard lock(mx);  // not between the feeder's look and its wait
      feeding = false;
    }
    handled_cv.notify_all();
  };
  // Stops and joins the feeder however the test ends (an assertion returns early).
  const std::unique_ptr<std::thread, std::function<void(std::thread*)>> join_feeder{
      &feeder, [&](std::thread* t) {
        stop_feeding();
        if (t->joinable()) t->join();
      }};
  feeder = std::thread([&] {
    test::producer feed(brokers);
    std::int64_t fed = 0, fed_before = 0;
    for (int round = 0; feeding; ++round) {
      std::vector<std::pair<std::string, std::string>> ordered, paid;
      for (int k = 0; k < kKeys; ++k) {
        ordered.emplace_back("c" + std::to_string(k), std::to_string(10 + round % 7));
        if ((k + round) % 3 == 0) paid.emplace_back("c" + std::to_string(k), std::to_string(4));
      }
      feed.produce_all(orders, ordered);
      feed.produce_all(payments, paid);
      {
        std::lock_guard lock(oracle_mx);
        for (auto& [k, v] : ordered) oracle[k] += std::stoll(v);
        for (auto& [k, v] : paid) oracle[k] -= std::stoll(v);
      }
      fed_before =
          std::exchange(fed, fed + static_cast<std::int64_t>(ordered.size() + paid.size()));
      std::unique_lock lock(mx);
      handled_cv.wait_for(lock, 30s, [&] { return !feeding || handled >= fed_before; });
    }
  });

  auto a = member("a"), b = member("b");
  a->start();
  b->start();
  ASSERT_TRUE(test::eventually([&] { return settled({a.get(), b.get()}); }, 120s));
  // Each member holds partition p of both inputs or of neither.
  for (auto* m : {a.get(), b.get()}) {
    const auto held = holds(*m);
    for (int p = 0; p < kPartitions; ++p)
      EXPECT_EQ(held.count(orders + "/" + std::to_string(p)),
                held.count(payments + "/" + std::to_string(p)))
          << "partition " << p;
  }
  auto c = member("c");
  c->start();
  ASSERT_TRUE(test::eventually(
      [&] {
        return !holds(*c).empty() && settled({a.get(), b.get(), c.get()});
      },
      120s));
  c->stop();
  ASSERT_TRUE(test::eventually([&] { return settled({a.get(), b.get()}); }, 120s));
  stop_feeding();
  feeder.join();
  ASSERT_TRUE(test::eventually(
      [&] {
        return test::group_caught_up(brokers, group, orders, kPartitions) &&
               test::group_caught_up(brokers, group, payments, kPartitions);
      },
      120s))
      << "the group's lag on both inputs reaches zero";
  a->stop();
  b->stop();

  {
    std::lock_guard lock(mx);
    ASSERT_FALSE(numbers.empty());
    std::size_t both = 0;
    for (const auto& [who, ps] : numbers) {
      EXPECT_EQ(ps.size(), 1u) << who.first << "'s actor " << who.second
                               << " handled records of several partition numbers";
      both += topics[who].size() == 2 ? 1 : 0;
    }
    EXPECT_GT(both, 0u) << "no actor handled both inputs";
  }
  // Every record once through clean moves, each against the store holding
  // its customer's earlier orders and payments: the balances are exact.
  std::map<std::string, long long> emitted;
  for (auto& r : test::read_all(brokers, out)) emitted[r.key] = std::stoll(r.value);
  EXPECT_EQ(emitted, oracle);
}

INSTANTIATE_TEST_SUITE_P(guarantees, co_partitioned_kafka_moves,
                         ::testing::Values(processing_guarantee::at_least_once,
                                           processing_guarantee::exactly_once),
                         [](const auto& info) {
                           return info.param == processing_guarantee::exactly_once
                                      ? "exactly_once"
                                      : "at_least_once";
                         });

TEST(co_partitioned_kafka, inputs_whose_counts_come_apart_make_the_agent_unhealthy_naming_them) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto orders = test::unique_name("orders"), payments = test::unique_name("payments"),
             out = test::unique_name("due"), group = test::unique_name("balance");
  for (const auto& t : {orders, payments, out}) test::create_topic(brokers, t, 2);
  const test::temp_dir state{"co_partitioned_count"};
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.state_dir = state.path;
  runtime rt(cfg);
  keep_balance(rt, orders, payments, group, out, [](const event&, context&) {});
  rt.start();
  ASSERT_TRUE(test::eventually([&] { return rt.stats().agents.at(0).ready; }, 60s));
  test::add_partitions(brokers, payments, 3);
  ASSERT_TRUE(test::eventually([&] { return !rt.stats().agents.at(0).healthy; }, 60s))
      << "still healthy with " << orders << " at 2 partitions and " << payments << " at 3";
  const auto why = rt.stats().agents.at(0).unhealthy_cause;
  EXPECT_NE(why.find("co-partitioned"), std::string::npos) << why;
  EXPECT_NE(why.find(orders + " has 2 partition(s)"), std::string::npos) << why;
  EXPECT_NE(why.find(payments + " has 3 partition(s)"), std::string::npos) << why;
  rt.stop();
}

TEST(co_partitioned_kafka, inputs_of_different_counts_are_refused_at_start_naming_them) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto orders = test::unique_name("orders"), payments = test::unique_name("payments"),
             out = test::unique_name("due");
  test::create_topic(brokers, orders, 4);
  test::create_topic(brokers, payments, 2);
  test::create_topic(brokers, out, 4);
  const test::temp_dir state{"co_partitioned_start"};
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.state_dir = state.path;
  runtime rt(cfg);
  keep_balance(rt, orders, payments, test::unique_name("balance"), out,
               [](const event&, context&) {});
  try {
    rt.start();
    FAIL() << "started over inputs of 4 and 2 partitions";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "agents.balance.topics");
    const std::string what = e.what();
    EXPECT_NE(what.find(orders + " has 4 partition(s), " + payments + " has 2 partition(s)"),
              std::string::npos)
        << what;
  }
}

}  // namespace
