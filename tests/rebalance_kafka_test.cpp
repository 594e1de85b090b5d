// A cooperative rebalance on the real broker does not stall the partitions
// that stay: while a second member joins a group that consumes a steady live
// feed, the partitions the first member keeps are never revoked and keep
// flowing (issue 14). Two runtimes in this process are two members, each with
// its own librdkafka consumer: the stall this guards against lives inside one
// consumer (its fetcher sleeping out a fixed second after the rebalance).
// Nor do periodic commits cost a member its partitions while others come and
// go (librdkafka 2.0.2 takes a commit refused during a rejoin for a lost
// assignment). The same with members as separate processes, through `kactor bench
// rebalance`: rebalance_bench_test; benchmarks/rebalance_bench reports the
// measured gaps.

#include <kactor/kactor.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "src/kafka/steady_feeder.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr int kPartitions = 8;
constexpr std::int64_t kRate = 2000;  // records/s over the topic

/// When each record was handled, per partition, in handling order; filled
/// from partition actors (thread-safe), read by the test.
class handled_log {
 public:
  explicit handled_log(int partitions) : at_(static_cast<std::size_t>(partitions)) {}
  void add(int partition) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mx_);
    at_.at(static_cast<std::size_t>(partition)).push_back(now);
  }
  std::vector<std::chrono::steady_clock::time_point> times(int partition) const {
    std::lock_guard lock(mx_);
    return at_.at(static_cast<std::size_t>(partition));
  }

 private:
  mutable std::mutex mx_;
  std::vector<std::vector<std::chrono::steady_clock::time_point>> at_;
};

/// Whether a group of two members has settled after the second joined:
/// `second` holds partitions, the two hold all `partitions` between them
/// without overlap, and the second has handled a record on each of its own.
/// The maps are partition -> stats of the partitions each member holds.
template <class Held>
bool two_members_settled(const Held& first, const Held& second, const handled_log& second_log,
                         int partitions) {
  if (second.empty() || static_cast<int>(first.size() + second.size()) != partitions) return false;
  for (const auto& entry : second)
    if (first.count(entry.first) || second_log.times(entry.first).empty()) return false;
  return true;
}

std::unique_ptr<runtime> member(const std::string& brokers, const std::string& topic,
                                handled_log& log) {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.consumer["session.timeout.ms"] = "6000";
  cfg.consumer["heartbeat.interval.ms"] = "500";
  auto rt = std::make_unique<runtime>(cfg);
  rt->agent("member").consume(topic).group(topic + "-group").on([&log](const event& e, context&) {
    log.add(e.partition().value());
  });
  return rt;
}

std::map<int, partition_stats> held(const runtime& rt) {
  std::map<int, partition_stats> out;
  const auto stats = rt.stats();  // kept alive: the loop reads into it
  for (const auto& p : stats.agents.at(0).partitions)
    if (p.assigned) out.emplace(p.tp.partition.value(), p);
  return out;
}

double ms(clock_type::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

TEST(rebalance_kafka, partitions_that_stay_keep_flowing_while_a_member_joins) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto topic = test::unique_name("rebalance");
  test::create_topic(brokers, topic, kPartitions);
  detail::steady_feeder feed(brokers, topic, kPartitions, kRate,
                             [](std::int64_t i) { return "record-" + std::to_string(i); });
  handled_log log_a(kPartitions), log_b(kPartitions);
  auto a = member(brokers, topic, log_a);
  a->start();
  // Steady state: every partition has handled two seconds of records (the
  // stall showed only once the member had been in the group over a second).
  ASSERT_TRUE(test::eventually([&] {
    for (int p = 0; p < kPartitions; ++p)
      if (log_a.times(p).size() < 500) return false;
    return held(*a).size() == kPartitions;
  }));

  auto b = member(brokers, topic, log_b);
  const auto a_before = held(*a);
  const auto join = clock_type::now();
  b->start();
  std::map<int, partition_stats> kept, moved;
  ASSERT_TRUE(test::eventually([&] {
    kept = held(*a);
    moved = held(*b);
    return two_members_settled(kept, moved, log_b, kPartitions);
  })) << "the group never settled with both members processing";
  auto settle = join;
  for (const auto& [p, s] : moved) settle = std::max(settle, log_b.times(p).front());
  // A gap still open at settle is measured to its end.
  ASSERT_TRUE(test::eventually([&] {
    for (const auto& [p, s] : kept)
      if (log_a.times(p).back() <= settle) return false;
    return true;
  }));

  const auto a_stats = a->stats();
  EXPECT_GT(a_stats.agents.at(0).last_revoke.count(), 0)
      << "the revocation of the moved partitions was timed";
  EXPECT_GE(a_stats.agents.at(0).longest_revoke, a_stats.agents.at(0).last_revoke);
  std::printf("member A's revocation callback: %.1f ms\n",
              static_cast<double>(a_stats.agents.at(0).last_revoke.count()) / 1000.0);
  for (const auto& [p, s] : kept) {
    EXPECT_EQ(s.revocations, a_before.at(p).revocations)
        << "partition " << p << " stayed with the first member but was revoked";
    const auto t = log_a.times(p);
    double gap = 0;
    for (std::size_t i = 1; i < t.size(); ++i)
      if (t[i] > join && t[i - 1] < settle) gap = std::max(gap, ms(t[i] - t[i - 1]));
    // At 250 records/s per partition the steady gap is ~30 ms here
    // (rebalance_bench); librdkafka 2.0.2's fetcher alone stalled kept
    // partitions 600-1000 ms before kactor woke it (issue 14). 250 ms leaves a
    // busy 2-core machine room without letting that stall through.
    EXPECT_LT(gap, 250.0) << "partition " << p << " stood still during the rebalance";
    std::printf("kept partition %d: longest gap %.1f ms during the rebalance\n", p, gap);
  }
}

TEST(rebalance_kafka, periodic_commits_never_cost_a_member_its_partitions) {
  constexpr int kInputs = 6, kCycles = 3;
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto topic = test::unique_name("commits");
  test::create_topic(brokers, topic, kInputs);
  std::atomic<int> lost{0};
  test::record_tally handled;
  auto member = [&] {
    runtime_config cfg;
    cfg.brokers = brokers;
    // A commit every few milliseconds: one is nearly always pending when a
    // member starts to rejoin.
    cfg.commit_interval = 5ms;
    cfg.consumer["heartbeat.interval.ms"] = "500";
    cfg.log.sink = [&lost](log_level, std::string_view line) {
      if (line.find("(lost)") != std::string_view::npos) ++lost;
    };
    auto rt = std::make_unique<runtime>(cfg);
    rt->agent("member").consume(topic).group(topic + "-group").on([&](const event& e, context&) {
      handled.add(std::string(e.topic()), e.partition().value(), e.offset().value());
    });
    return rt;
  };
  auto holds = [](const runtime& rt) { return held(rt).size(); };
  std::vector<std::int64_t> end;
  {
    detail::steady_feeder feed(brokers, topic, kInputs, kRate,
                               [](std::int64_t i) { return "record-" + std::to_string(i); });
    // Three members at most: a member's rejoin waits for the slowest of the
    // others to notice the rebalance (up to a heartbeat), the window in which
    // a commit it sends is refused.
    auto a = member(), b = member();
    a->start();
    b->start();
    ASSERT_TRUE(test::eventually([&] { return holds(*a) + holds(*b) == kInputs; }));
    for (int cycle = 0; cycle < kCycles; ++cycle) {
      auto c = member();
      c->start();
      ASSERT_TRUE(test::eventually([&] {
        return holds(*c) > 0 && holds(*a) + holds(*b) + holds(*c) == kInputs;
      })) << "cycle "
          << cycle << ": the third member never got partitions";
      c->stop();
      ASSERT_TRUE(test::eventually([&] { return holds(*a) + holds(*b) == kInputs; }))
          << "cycle " << cycle << ": the partitions never went back";
    }
    // The feed stops (flushed) before the group drains it.
  }
  end = test::end_offsets(brokers, topic, "read_uncommitted");
  std::size_t produced = 0;
  for (auto e : end) produced += static_cast<std::size_t>(e);
  // a and b left with their scope; a fresh member handles what they left.
  auto d = member();
  d->start();
  ASSERT_TRUE(test::eventually([&] { return handled.distinct() == produced; }))
      << "handled " << handled.distinct() << " of " << produced;
  d->stop();
  const auto twice = handled.twice(), distinct = handled.distinct();
  std::printf("%d join/leave cycles: %zu records, %zu handled twice, %d lost assignment(s)\n",
              kCycles, distinct, twice, lost.load());
  EXPECT_EQ(lost.load(), 0) << "a member lost its assignment in a clean rebalance";
  EXPECT_EQ(twice, 0u) << "records handled again after clean rebalances";
  configure_log(log_config{});  // the sink refers to this test's counter
}

}  // namespace
