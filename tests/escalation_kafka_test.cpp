// What an escalation does beyond pausing the partition, on a real broker
// (supervision_policy::on_escalation). The escalation is a dead-letter topic
// the member may not write (an ACL), so it belongs to one member only: with
// `leave_group` the member leaves and the group moves its partitions to a
// member that can write its own DLQ; with `exit` the runtime stops
// gracefully, commits what it finished and `run_until_signal` returns 70.

#include <kactor/kactor.hpp>

#include <future>
#include <mutex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "src/kafka/admin.hpp"
#include "src/kafka/handles.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;
using action = supervision_policy::escalation_action;

runtime_config config(const std::string& brokers, const std::string& client) {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.client_id = client;
  cfg.commit_interval = 200ms;
  cfg.log.level = log_level::off;
  return cfg;
}

supervision_policy policy(const std::string& dlq, action on_escalation) {
  supervision_policy p;
  p.max_retries = 0;
  p.dlq_topic = dlq;
  p.on_escalation = on_escalation;
  return p;
}

/// Values handled without failing, by every member.
struct handled_values {
  std::mutex mx;
  std::multiset<std::string> values;
  void add(std::string_view v) {
    std::lock_guard lock(mx);
    values.insert(std::string(v));
  }
  std::size_t count(const std::string& v) {
    std::lock_guard lock(mx);
    return values.count(v);
  }
};

/// The partitions `rt`'s only agent holds now.
std::set<int> held(const runtime& rt) {
  std::set<int> out;
  for (const auto& p : rt.stats().agents.at(0).partitions)
    if (p.assigned) out.insert(p.tp.partition.value());
  return out;
}

std::int64_t committed(const std::string& brokers, const std::string& group,
                       const std::string& topic, int partition) {
  auto rk = detail::make_group_client({{"", "bootstrap.servers", brokers}}, group);
  const auto offsets = detail::group_offsets(rk.get(), group, 10000);
  const auto it = offsets.find({topic, partition});
  return it == offsets.end() ? -1 : it->second;
}

TEST(escalation_kafka, leave_group_moves_the_partitions_to_a_healthy_member) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("esc-leave"), group = in + "-g";
  const auto denied = in + ".dlq-denied", allowed = in + ".dlq";
  test::create_topic(brokers, in, 2);
  test::create_topic(brokers, denied, 1);
  test::create_topic(brokers, allowed, 1);
  test::deny_writes(brokers, denied);

  handled_values seen;
  auto handler = [&](const event& e, context&) {
    if (e.value() == "bad") throw irrecoverable_error("unreadable entry");
    seen.add(e.value());
  };
  runtime a(config(brokers, "member-a"));
  a.agent("audit")
      .consume(in)
      .group(group)
      .supervision(policy(denied, action::leave_group))
      .on(handler);
  a.start();
  ASSERT_TRUE(test::eventually([&] { return held(a).size() == 2; }, 60s));
  runtime b(config(brokers, "member-b"));
  b.agent("audit").consume(in).group(group).supervision(policy(allowed, action::pause)).on(handler);
  b.start();
  ASSERT_TRUE(test::eventually([&] { return held(a).size() == 1 && held(b).size() == 1; }, 60s));
  const int mine = *held(a).begin(), theirs = 1 - mine;

  test::produce_all(brokers, in, {{"k", "a0"}, {"k", "bad"}, {"k", "a2"}}, {}, mine);
  test::produce_all(brokers, in, {{"k", "b0"}, {"k", "b1"}}, {}, theirs);
  // a cannot dead-letter "bad": it escalates and leaves; b takes the
  // partition from a's last commit and dead-letters "bad" to its own DLQ.
  ASSERT_TRUE(test::eventually([&] { return held(b).size() == 2; }, 60s))
      << "the partition moves to the healthy member";
  EXPECT_TRUE(held(a).empty()) << "the escalated member left the group";
  ASSERT_TRUE(test::eventually([&] { return seen.count("a2") >= 1 && seen.count("b1") >= 1; }));
  ASSERT_TRUE(test::eventually([&] {
    std::uint64_t n = 0;
    for (const auto& p : b.stats().agents.at(0).partitions) n += p.dead_lettered;
    return n == 1;
  })) << "b dead-letters the record a could not";
  const auto dead = test::read_all(brokers, allowed, 30s);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, "bad");

  const auto sa = a.stats().agents.at(0);
  EXPECT_FALSE(sa.healthy);
  EXPECT_NE(sa.unhealthy_cause.find(in + "/" + std::to_string(mine)), std::string::npos)
      << sa.unhealthy_cause;
  EXPECT_TRUE(b.stats().agents.at(0).healthy);
  for (const auto* v : {"a0", "b0", "b1"}) EXPECT_GE(seen.count(v), 1u) << v << " is handled";
  b.stop();
  a.stop();
}

TEST(escalation_kafka, exit_stops_the_runtime_gracefully_and_run_until_signal_returns_70) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("esc-exit"), group = in + "-g", denied = in + ".dlq";
  test::create_topic(brokers, in, 2);
  test::create_topic(brokers, denied, 1);
  test::deny_writes(brokers, denied);

  handled_values seen;
  runtime rt(config(brokers, "member-exit"));
  rt.agent("audit")
      .consume(in)
      .group(group)
      .supervision(policy(denied, action::exit))
      .on([&](const event& e, context&) {
        if (e.value() == "bad") throw irrecoverable_error("unreadable entry");
        seen.add(e.value());
      });
  auto code = std::async(std::launch::async, [&] { return rt.run_until_signal(); });
  test::produce_all(brokers, in, {{"k", "b0"}, {"k", "b1"}, {"k", "b2"}}, {}, 1);
  ASSERT_TRUE(test::eventually([&] { return seen.count("b2") == 1; }, 60s));
  test::produce_all(brokers, in, {{"k", "a0"}, {"k", "bad"}, {"k", "a2"}}, {}, 0);
  ASSERT_EQ(code.wait_for(60s), std::future_status::ready) << "the escalation stops the runtime";
  EXPECT_EQ(code.get(), escalation_exit_code);
  EXPECT_EQ(escalation_exit_code, 70);

  // Graceful: what was finished is committed, nothing past the record that
  // could not be dead-lettered.
  EXPECT_EQ(committed(brokers, group, in, 0), 1);
  EXPECT_EQ(committed(brokers, group, in, 1), 3);
}

}  // namespace
