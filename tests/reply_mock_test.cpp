// A responder agent on the embedded cluster answers requests with
// `ctx.reply`: Spring Kafka's ReplyingKafkaTemplate's requests and kactor's
// land on the partition they name with their correlation id; a request that
// names no reply topic goes to the dead-letter topic saying why.

#include <kactor/kactor.hpp>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

TEST(reply_mock, a_responder_answers_spring_and_kactor_requests_where_they_ask) {
  runtime_config cfg;
  cfg.commit_interval = 100ms;
  runtime rt(cfg);
  rt.create_topic("questions", 2);
  rt.create_topic("jvm.replies", 4);
  rt.create_topic("asker.replies", 3);
  rt.agent("knowledge").consume("questions").on([](const event& e, context& ctx) {
    ctx.reply(e, "answer to " + std::string(e.value()), {{"answered-by", ctx.agent()}});
  });
  const std::string spring_id("\x00\x11\xfe\xff-id", 8);
  rt.emit("questions", "q1", "what is kafka",
          {{"kafka_replyTopic", "jvm.replies"},
           {"kafka_replyPartition", std::string("\x00\x00\x00\x03", 4)},
           {"kafka_correlationId", spring_id}});
  rt.emit("questions", "q2", "what is an actor",
          {{"kactor.reply_to", "asker.replies"},
           {"kactor.reply_partition", "1"},
           {"kactor.correlation_id", "c-2"}});
  rt.emit("questions", "q3", "who asked", {});
  ASSERT_TRUE(rt.flush(30s));
  rt.start();
  // Every record's outputs acknowledged: its offset stored, the dead letter written.
  ASSERT_TRUE(rt.run_until(
      [](const runtime_stats& s) {
        std::int64_t stored = 0;
        std::uint64_t letters = 0;
        for (const auto& p : s.agents.at(0).partitions) {
          stored += std::max<std::int64_t>(p.stored_offset, 0);
          letters += p.dead_lettered;
        }
        return stored == 3 && letters == 1;
      },
      60s));
  const auto brokers = rt.bootstrap_servers();

  auto jvm = test::read_all(brokers, "jvm.replies", 30s, "read_uncommitted");
  ASSERT_EQ(jvm.size(), 1u);
  EXPECT_EQ(jvm[0].partition, 3) << "the partition of kafka_replyPartition";
  EXPECT_EQ(jvm[0].key, "q1");
  EXPECT_EQ(jvm[0].value, "answer to what is kafka");
  EXPECT_EQ(jvm[0].headers["kafka_correlationId"], spring_id) << "the id's bytes come back";
  EXPECT_EQ(jvm[0].headers["answered-by"], "knowledge");

  auto asker = test::read_all(brokers, "asker.replies", 30s, "read_uncommitted");
  ASSERT_EQ(asker.size(), 1u);
  EXPECT_EQ(asker[0].partition, 1);
  EXPECT_EQ(asker[0].headers["kactor.correlation_id"], "c-2");

  auto letters = test::read_all(brokers, "knowledge.dlq", 30s, "read_uncommitted");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].key, "q3");
  const auto& why = letters[0].headers["kactor.dlq.error.message"];
  EXPECT_NE(why.find("cannot be answered"), std::string::npos) << why;
  EXPECT_NE(why.find("no kactor.reply_to or kafka_replyTopic header"), std::string::npos) << why;
  rt.stop();
}

}  // namespace
