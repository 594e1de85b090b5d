// exactly_once error paths on librdkafka's mock cluster: the test owns the
// cluster (so the runtime takes it for a real broker) and makes the
// transaction coordinator answer with errors (rd_kafka_mock_push_request_errors).
// The mock cluster writes no transaction markers, so these tests check what
// the runtime does on each error class, not what read_committed readers see:
//   retriable -> librdkafka retries; no abort, no producer re-created;
//   abortable -> the transaction aborts and every partition rewinds;
//   fatal     -> the producer is re-created and processing goes on;
//   a commit whose answer never comes in time (ambiguous) -> the producer is
//               re-created, which settles the old transaction, and the
//               partitions resume from the group's committed offsets;
// and in no case does a record go to the DLQ or a partition actor restart.

#include <kactor/kactor.hpp>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <set>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;

// Kafka protocol API keys (rdkafka_protocol.h is not installed).
constexpr std::int16_t kInitProducerId = 22, kAddPartitionsToTxn = 24, kEndTxn = 26,
                       kTxnOffsetCommit = 28;

enum class expect { retried, aborted, producer_recreated };

struct matrix_row {
  const char* name;
  std::int16_t request;
  rd_kafka_resp_err_t error;
  int times;
  expect outcome;
  /// > 0: the requests succeed, but their answers are this late.
  int rtt_ms = 0;
};

std::ostream& operator<<(std::ostream& os, const matrix_row& r) {
  return os << r.name;
}

constexpr int kPartitions = 4, kRecords = 4000;

struct exactly_once_mock : ::testing::TestWithParam<matrix_row> {
  detail::handle_ptr owner = detail::make_client(
      RD_KAFKA_PRODUCER,
      detail::make_conf({{"", "test.mock.num.brokers", "1"}, {"", "log_level", "3"}}));
  rd_kafka_mock_cluster_t* mock = rd_kafka_handle_mock_cluster(owner.get());
  std::string brokers = rd_kafka_mock_cluster_bootstraps(mock);

  void SetUp() override {
    for (const char* t : {"in", "out", "in.dlq"})
      ASSERT_EQ(rd_kafka_mock_topic_create(mock, t, kPartitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  static std::vector<std::pair<std::string, std::string>> records(int from, int to) {
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = from; i < to; ++i)
      out.emplace_back("key-" + std::to_string(i % 97), std::to_string(i));
    return out;
  }

  /// The offset the agent's last committed transaction holds, summed.
  static std::int64_t committed(const agent_stats& a) {
    std::int64_t n = 0;
    for (const auto& p : a.partitions) n += std::max<std::int64_t>(p.committed_offset, 0);
    return n;
  }
};

TEST_P(exactly_once_mock, the_coordinator_error_is_handled_by_its_class) {
  const auto row = GetParam();
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.consumer["session.timeout.ms"] = "6000";
  cfg.consumer["heartbeat.interval.ms"] = "500";
  // Bounds commit_transaction (it waits up to the remaining transaction timeout).
  cfg.producer["transaction.timeout.ms"] = "3000";
  runtime rt(cfg);
  ASSERT_FALSE(rt.embedded()) << "the test's own cluster stands in for a real broker";
  supervision_policy policy;
  policy.backoff_base = std::chrono::milliseconds(5);
  policy.backoff_max = std::chrono::milliseconds(50);
  std::atomic<int> handled{0};
  rt.agent("copier").consume("in").group("copier").supervision(policy).exactly_once().on(
      [&](const event& e, context& ctx) {
        ++handled;
        ctx.emit("out", e.key(), e.value());
      });
  test::produce_all(brokers, "in", records(0, kRecords / 2));
  // Errors go on broker 1's stack (the only broker, so every coordinator's),
  // whose count tells at the end whether each was answered. InitProducerId
  // is also sent by idempotent producers: the runtime's shared one has its
  // producer id once a record is acknowledged, so the transactional producer
  // that start() makes is the one that meets these errors.
  auto push_errors = [&] {
    for (int i = 0; i < row.times; ++i)
      ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(mock, 1, row.request, 1, row.error,
                                                             row.rtt_ms),
                RD_KAFKA_RESP_ERR_NO_ERROR);
  };
  const bool at_start = row.request == kInitProducerId;
  if (at_start) {
    rt.emit("warm-up", "k", "v");
    ASSERT_TRUE(rt.flush(std::chrono::seconds(30)));
    push_errors();
  }
  rt.start();
  auto stats = [&] { return rt.stats().agents.at(0); };
  ASSERT_TRUE(test::eventually([&] { return committed(stats()) == kRecords / 2; }))
      << "committed " << committed(stats());
  const auto before = stats();

  // Otherwise the next requests of this kind fail; the second half of the
  // input makes the agent send them.
  if (!at_start) push_errors();
  // Through the runtime's producer: a new client would send InitProducerId
  // and could meet the errors meant for the transactional producer.
  for (const auto& [k, v] : records(kRecords / 2, kRecords)) rt.emit("in", k, v);
  ASSERT_TRUE(rt.flush(std::chrono::seconds(30)));
  ASSERT_TRUE(test::eventually([&] { return committed(stats()) == kRecords; }))
      << "committed " << committed(stats()) << " of " << kRecords;
  const auto after = stats();
  rt.stop();
  size_t unanswered = 0;
  ASSERT_EQ(rd_kafka_mock_broker_error_stack_cnt(mock, 1, row.request, &unanswered),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(unanswered, 0u) << "every pushed error met a request";

  EXPECT_TRUE(after.healthy);
  std::uint64_t restarts = 0, dead_lettered = 0;
  for (const auto& p : after.partitions) {
    restarts += p.restarts;
    dead_lettered += p.dead_lettered;
  }
  EXPECT_EQ(restarts, 0u) << "no partition actor restarts on a transaction error";
  EXPECT_EQ(dead_lettered, 0u) << "nothing goes to the DLQ";
  EXPECT_TRUE(test::read_all(brokers, "in.dlq").empty());
  const auto aborted = after.transactions_aborted - before.transactions_aborted;
  const auto resets = after.producer_resets - before.producer_resets;
  switch (row.outcome) {
    case expect::retried:
      EXPECT_EQ(aborted, 0u);
      EXPECT_EQ(resets, 0u);
      EXPECT_EQ(handled.load(), kRecords) << "nothing handled twice";
      break;
    case expect::aborted:
      EXPECT_GE(aborted, 1u);
      EXPECT_EQ(resets, 0u);
      EXPECT_GT(handled.load(), kRecords) << "the aborted transaction's records ran again";
      break;
    case expect::producer_recreated:
      EXPECT_GE(resets, 1u);
      EXPECT_GT(handled.load(), kRecords) << "the lost transaction's records ran again";
      break;
  }
  // The mock cluster shows aborted records too: every input is in the output
  // at least once.
  std::set<std::string> out;
  for (auto& r : test::read_all(brokers, "out")) out.insert(r.value);
  EXPECT_EQ(out.size(), static_cast<std::size_t>(kRecords));
}

INSTANTIATE_TEST_SUITE_P(
    matrix, exactly_once_mock,
    ::testing::Values(
        matrix_row{"InitProducerId_coordinator_not_available", kInitProducerId,
                   RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, 3, expect::retried},
        matrix_row{"AddPartitionsToTxn_concurrent_transactions", kAddPartitionsToTxn,
                   RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS, 3, expect::retried},
        matrix_row{"TxnOffsetCommit_coordinator_load_in_progress", kTxnOffsetCommit,
                   RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, 3, expect::retried},
        matrix_row{"EndTxn_not_coordinator", kEndTxn, RD_KAFKA_RESP_ERR_NOT_COORDINATOR, 3,
                   expect::retried},
        matrix_row{"AddPartitionsToTxn_topic_authorization_failed", kAddPartitionsToTxn,
                   RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 1, expect::aborted},
        matrix_row{"TxnOffsetCommit_illegal_generation", kTxnOffsetCommit,
                   RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, 1, expect::aborted},
        matrix_row{"EndTxn_producer_fenced", kEndTxn, RD_KAFKA_RESP_ERR_PRODUCER_FENCED, 1,
                   expect::producer_recreated},
        matrix_row{"AddPartitionsToTxn_producer_fenced", kAddPartitionsToTxn,
                   RD_KAFKA_RESP_ERR_PRODUCER_FENCED, 1, expect::producer_recreated},
        matrix_row{"TxnOffsetCommit_transactional_id_authorization_failed", kTxnOffsetCommit,
                   RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 1,
                   expect::producer_recreated},
        matrix_row{"EndTxn_answer_later_than_the_commit_waits", kEndTxn, RD_KAFKA_RESP_ERR_NO_ERROR,
                   1, expect::producer_recreated, 5000}),
    [](const ::testing::TestParamInfo<matrix_row>& info) { return std::string(info.param.name); });

}  // namespace
