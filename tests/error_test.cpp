#include <kactor/error.hpp>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

using kactor::classify_kafka_error;
using kactor::error_class;

TEST(error_classification, flags_reported_by_librdkafka_win_over_the_code) {
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR__TRANSPORT, true), error_class::fatal);
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR__TRANSPORT, false, false, true),
            error_class::abortable);
}

TEST(error_classification, fencing_and_authorization_are_fatal) {
  for (auto code :
       {RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED, RD_KAFKA_RESP_ERR__FATAL,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__AUTHENTICATION})
    EXPECT_EQ(classify_kafka_error(code), error_class::fatal) << rd_kafka_err2name(code);
}

TEST(error_classification, broken_transactions_are_abortable) {
  for (auto code : {RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR_INVALID_TXN_STATE,
                    RD_KAFKA_RESP_ERR__PURGE_QUEUE})
    EXPECT_EQ(classify_kafka_error(code), error_class::abortable) << rd_kafka_err2name(code);
}

TEST(error_classification, records_that_cannot_be_written_are_irrecoverable) {
  for (auto code : {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
                    RD_KAFKA_RESP_ERR__BAD_MSG, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART})
    EXPECT_EQ(classify_kafka_error(code), error_class::irrecoverable) << rd_kafka_err2name(code);
}

TEST(error_classification, transient_broker_trouble_is_retriable) {
  for (auto code :
       {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__QUEUE_FULL,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS})
    EXPECT_EQ(classify_kafka_error(code), error_class::retriable) << rd_kafka_err2name(code);
}

TEST(error_classification, unknown_codes_follow_the_retriable_flag) {
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR_POLICY_VIOLATION), error_class::irrecoverable);
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR_POLICY_VIOLATION, false, true),
            error_class::retriable);
}

TEST(error_classification, every_class_has_a_name) {
  EXPECT_STREQ(kactor::to_string(error_class::retriable), "retriable");
  EXPECT_STREQ(kactor::to_string(error_class::abortable), "abortable");
  EXPECT_STREQ(kactor::to_string(error_class::irrecoverable), "irrecoverable");
  EXPECT_STREQ(kactor::to_string(error_class::fatal), "fatal");
}

TEST(write_failure_classification, says_whether_a_smaller_record_or_nothing_can_be_written) {
  using kactor::classify_write_failure;
  using kactor::write_failure;
  for (auto code : {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
                    RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE})
    EXPECT_EQ(classify_write_failure(code), write_failure::record) << rd_kafka_err2name(code);
  for (auto code :
       {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION})
    EXPECT_EQ(classify_write_failure(code), write_failure::destination) << rd_kafka_err2name(code);
  for (auto code : {RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                    RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                    RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR__FENCED})
    EXPECT_EQ(classify_write_failure(code), write_failure::transient) << rd_kafka_err2name(code);
}
