// `kactor lag`: committed offsets against end offsets, and clear errors for
// an unknown group or an unreachable broker.

#include <gtest/gtest.h>

#include <kactor/error.hpp>

#include "src/kafka/admin.hpp"
#include "src/kafka/handles.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;

TEST(lag, reports_committed_end_and_lag_per_partition) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto topic = test::unique_name("lagged"), group = topic + "-g";
  test::create_topic(brokers, topic, 2);
  std::vector<std::pair<std::string, std::string>> recs;
  for (int i = 0; i < 100; ++i) recs.emplace_back("k", "v");  // one key: all on one partition
  test::produce_all(brokers, topic, recs);

  // Commit offset 40 on the partition holding the records.
  detail::property_list props{{"", "bootstrap.servers", brokers}, {"", "group.id", group}};
  auto rk = detail::make_client(RD_KAFKA_CONSUMER, detail::make_conf(props));
  int part = -1;
  for (int p = 0; p < 2; ++p) {
    std::int64_t lo = 0, hi = 0;
    rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &lo, &hi, 5000);
    if (hi == 100) part = p;
  }
  ASSERT_GE(part, 0);
  auto tpl = detail::make_tpl(1);
  rd_kafka_topic_partition_list_add(tpl.get(), topic.c_str(), part)->offset = 40;
  ASSERT_EQ(rd_kafka_commit(rk.get(), tpl.get(), 0), RD_KAFKA_RESP_ERR_NO_ERROR);

  auto lag = detail::query_group_lag(brokers, group, std::chrono::seconds(10));
  ASSERT_EQ(lag.partitions.size(), 1u);
  EXPECT_EQ(lag.partitions[0].partition, part);
  EXPECT_EQ(lag.partitions[0].committed, 40);
  EXPECT_EQ(lag.partitions[0].end, 100);
  EXPECT_EQ(lag.partitions[0].lag, 60);
  EXPECT_EQ(lag.total, 60);
}

TEST(lag, partitions_a_member_holds_without_a_commit_lag_by_the_whole_partition) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto topic = test::unique_name("uncommitted"), group = topic + "-g";
  test::create_topic(brokers, topic, 2);
  std::vector<std::pair<std::string, std::string>> recs;
  for (int i = 0; i < 30; ++i) recs.emplace_back("k" + std::to_string(i), "v");
  test::produce_all(brokers, topic, recs);

  // A member that is assigned both partitions and never commits.
  auto rk = detail::make_client(RD_KAFKA_CONSUMER,
                                detail::make_conf({{"", "bootstrap.servers", brokers},
                                                   {"", "group.id", group},
                                                   {"", "enable.auto.commit", "false"}}));
  rd_kafka_poll_set_consumer(rk.get());
  auto sub = detail::make_tpl(1);
  rd_kafka_topic_partition_list_add(sub.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  ASSERT_EQ(rd_kafka_subscribe(rk.get(), sub.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(test::eventually([&] {
    detail::message_ptr m{rd_kafka_consumer_poll(rk.get(), 10)};
    rd_kafka_topic_partition_list_t* assigned = nullptr;
    rd_kafka_assignment(rk.get(), &assigned);
    detail::tpl_ptr guard{assigned};
    return assigned && assigned->cnt == 2;
  }));

  auto lag = detail::query_group_lag(brokers, group, std::chrono::seconds(10));
  ASSERT_EQ(lag.partitions.size(), 2u) << "both held partitions, though nothing is committed";
  for (const auto& p : lag.partitions) {
    EXPECT_EQ(p.committed, -1);
    EXPECT_EQ(p.lag, p.end);
  }
  EXPECT_EQ(lag.total, 30);
  rd_kafka_consumer_close(rk.get());
}

TEST(lag, an_unknown_group_is_an_error_naming_it) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  try {
    detail::query_group_lag(brokers, "no-such-group-here", std::chrono::seconds(10));
    FAIL() << "expected an error";
  } catch (const kafka_exception& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-group-here"), std::string::npos) << e.what();
  }
}

TEST(lag, an_unreachable_broker_is_an_error_naming_it) {
  try {
    detail::query_group_lag("127.0.0.1:1", "g", std::chrono::seconds(2));
    FAIL() << "expected an error";
  } catch (const kafka_exception& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
}

}  // namespace
