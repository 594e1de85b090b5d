// What tasks over co-partitioned inputs (issue 16) will rest on, shown with
// plain librdkafka 2.0.2 consumers on the real broker, no kactor in between:
// a member of a cooperative-sticky group subscribes to its first input only
// and, in its rebalance callback, adds partition p of the second input with
// partition p of the first (rd_kafka_incremental_assign) and removes it with
// it. librdkafka has no public custom assignor, and the cooperative-sticky
// assignor does not co-assign two subscribed topics; this keeps the
// cooperative protocol and puts partition p of both inputs on one member.
//
// Checked: through a join, a clean leave and a crash (destroyed without
// leaving, found out by the session timeout) each member holds the same
// partition numbers of both topics and no partition is held twice; records
// of the co-assigned topic are read once through clean moves and at least
// once through the crash; its offsets are committed like the subscribed
// topic's (the group's lag on it reaches zero).

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace kactor::detail;
using namespace std::chrono_literals;

constexpr int kPartitions = 4;

/// One group member: subscribed to `lead`, co-assigned `follower`'s
/// partition of the same number in its rebalance callback. Polls on a
/// thread of its own.
class member {
 public:
  member(const std::string& brokers, const std::string& group, std::string lead,
         std::string follower, test::record_tally& log)
      : lead_(std::move(lead)), follower_(std::move(follower)), log_(log) {
    auto conf = make_conf({{"", "bootstrap.servers", brokers},
                           {"", "group.id", group},
                           {"", "partition.assignment.strategy", "cooperative-sticky"},
                           {"", "auto.offset.reset", "earliest"},
                           {"", "enable.auto.commit", "true"},
                           {"", "auto.commit.interval.ms", "100"},
                           {"", "session.timeout.ms", "6000"},
                           {"", "heartbeat.interval.ms", "500"}});
    rd_kafka_conf_set_rebalance_cb(conf.get(), &member::on_rebalance);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rk_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
    rd_kafka_poll_set_consumer(rk_.get());
    auto topics = make_tpl(1);
    rd_kafka_topic_partition_list_add(topics.get(), lead_.c_str(), RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk_.get(), topics.get())) throw std::runtime_error("subscribe failed");
    thread_ = std::thread([this] {
      while (!stop_) {
        message_ptr m{rd_kafka_consumer_poll(rk_.get(), 50)};
        if (m && !m->err) log_.add(rd_kafka_topic_name(m->rkt), m->partition, m->offset);
      }
    });
  }
  ~member() { leave(); }

  /// Leaves the group cleanly (revoking, committing).
  void leave() {
    if (!rk_) return;
    stop_ = true;
    thread_.join();
    rd_kafka_consumer_close(rk_.get());
    rk_.reset();
  }
  /// Dies as a killed process would: no commit, no LeaveGroup.
  void crash() {
    stop_ = true;
    thread_.join();
    rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }

  /// Partition numbers held, per topic.
  std::map<std::string, std::set<int>> held() {
    std::lock_guard lock(mx_);
    return held_;
  }
  std::string failure() {
    std::lock_guard lock(mx_);
    return failure_;
  }

 private:
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<member*>(opaque);
    auto both = make_tpl(parts->cnt * 2);
    for (int i = 0; i < parts->cnt; ++i) {
      const auto& p = parts->elems[i];
      rd_kafka_topic_partition_list_add(both.get(), p.topic, p.partition);
      rd_kafka_topic_partition_list_add(both.get(), self->follower_.c_str(), p.partition);
    }
    rd_kafka_error_t* error = nullptr;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      error = rd_kafka_incremental_assign(rk, both.get());
    } else {
      // What a clean revocation commits, co-assigned partitions included.
      if (!rd_kafka_assignment_lost(rk)) rd_kafka_commit(rk, nullptr, 0);
      error = rd_kafka_incremental_unassign(rk, both.get());
    }
    std::lock_guard lock(self->mx_);
    if (error) {
      self->failure_ = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
    }
    for (int i = 0; i < both->cnt; ++i) {
      auto& set = self->held_[both->elems[i].topic];
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        set.insert(both->elems[i].partition);
      else
        set.erase(both->elems[i].partition);
    }
  }

  std::string lead_, follower_;
  test::record_tally& log_;
  handle_ptr rk_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mx_;
  std::map<std::string, std::set<int>> held_;
  std::string failure_;
};

TEST(co_assignment_kafka, partition_p_of_both_inputs_stays_on_one_member) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto lead = test::unique_name("trip.requested"),
             follower = test::unique_name("hotel.failed"), group = test::unique_name("flight");
  test::create_topic(brokers, lead, kPartitions);
  test::create_topic(brokers, follower, kPartitions);
  std::size_t produced = 0;
  auto feed = [&](int per_partition) {
    for (const auto& topic : {lead, follower})
      for (int p = 0; p < kPartitions; ++p) {
        std::vector<std::pair<std::string, std::string>> records(
            static_cast<std::size_t>(per_partition), {"trip", "x"});
        test::produce_all(brokers, topic, records, {}, p);
        produced += records.size();
      }
  };
  test::record_tally log;
  auto all_read = [&] { return log.distinct() == produced; };
  // Each member holds the same numbers of both topics, together all of them once.
  auto co_assigned = [&](std::vector<member*> members) {
    std::set<int> lead_seen;
    for (auto* m : members) {
      auto held = m->held();
      if (held[lead] != held[follower]) return false;
      for (int p : held[lead])
        if (!lead_seen.insert(p).second) return false;
    }
    return static_cast<int>(lead_seen.size()) == kPartitions;
  };

  auto a = std::make_unique<member>(brokers, group, lead, follower, log);
  feed(100);
  ASSERT_TRUE(test::eventually([&] { return co_assigned({a.get()}) && all_read(); }));

  // A second member joins: each ends with p of both topics for its p's.
  auto b = std::make_unique<member>(brokers, group, lead, follower, log);
  ASSERT_TRUE(test::eventually([&] {
    return !b->held()[lead].empty() && co_assigned({a.get(), b.get()});
  })) << "a: "
      << a->held()[lead].size() << "+" << a->held()[follower].size()
      << ", b: " << b->held()[lead].size() << "+" << b->held()[follower].size();
  feed(100);
  ASSERT_TRUE(test::eventually(all_read));

  // It leaves cleanly: everything is back on the first, read once so far.
  b->leave();
  ASSERT_TRUE(test::eventually([&] { return co_assigned({a.get()}); }));
  feed(100);
  ASSERT_TRUE(test::eventually(all_read));
  EXPECT_EQ(log.twice(), 0u) << "records read twice through clean moves";

  // It joins again and dies: the session timeout hands its partitions back.
  b = std::make_unique<member>(brokers, group, lead, follower, log);
  ASSERT_TRUE(test::eventually([&] {
    return !b->held()[lead].empty() && co_assigned({a.get(), b.get()});
  }));
  feed(100);
  ASSERT_TRUE(test::eventually(all_read));
  b->crash();
  ASSERT_TRUE(test::eventually([&] { return co_assigned({a.get()}); }, 60s))
      << "the dead member's partitions never came back";
  feed(100);
  ASSERT_TRUE(test::eventually(all_read)) << "records lost through the crash";

  // The co-assigned topic's offsets are committed like the subscribed one's.
  EXPECT_TRUE(test::eventually([&] {
    return test::group_caught_up(brokers, group, lead, kPartitions) &&
           test::group_caught_up(brokers, group, follower, kPartitions);
  })) << "the group's committed offsets never reached the inputs' ends";
  EXPECT_EQ(a->failure(), "") << "an incremental (un)assign failed";
  a->leave();
}

}  // namespace
