// Bad input stays contained, on a real broker: a Protobuf agent meets a
// 10 MiB record, an empty key, headers that are not UTF-8 and a truncated
// Protobuf among good records; and a consumed topic is deleted under it. Each
// is handled, dead-lettered with a clear error, or reported; the process and
// the other records go on. (Emits to a topic that does not exist and
// dead-letter topics that cannot be written are poison_kafka_test's; a
// consumed topic missing at start is consumer_groups_kafka_test's.)

#include <kactor/dead_letter.hpp>
#include <kactor/kactor.hpp>

#include <mutex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "kactor_test.pb.h"
#include "src/kafka/handles.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

std::string task(const std::string& id, std::size_t tag_bytes = 0) {
  test::Task t;
  t.set_id(id);
  t.set_amount(1);
  if (tag_bytes > 0) t.add_tags(std::string(tag_bytes, 't'));
  return t.SerializeAsString();
}

struct raw_record {
  std::string key, value;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Produces `records` to partition 0 of `topic`, in order (idempotence), with
/// a producer that may send up to 16 MiB.
void produce(const std::string& brokers, const std::string& topic,
             const std::vector<raw_record>& records) {
  auto rk = detail::make_client(RD_KAFKA_PRODUCER,
                                detail::make_conf({{"", "bootstrap.servers", brokers},
                                                   {"", "enable.idempotence", "true"},
                                                   {"", "message.max.bytes", "16777216"}}));
  for (const auto& r : records) {
    detail::headers_ptr hdrs{rd_kafka_headers_new(r.headers.size())};
    for (const auto& [n, v] : r.headers)
      rd_kafka_header_add(hdrs.get(), n.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
    ASSERT_EQ(rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                                RD_KAFKA_V_HEADERS(hdrs.get()), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    (void)hdrs.release();  // the producer owns them now
  }
  ASSERT_EQ(rd_kafka_flush(rk.get(), 60000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

std::string header(const test::record& r, std::string_view name) {
  auto it = r.headers.find(std::string(name));
  return it == r.headers.end() ? std::string("<absent>") : it->second;
}

TEST(bad_input_kafka, each_bad_record_is_handled_or_dead_lettered_and_the_partition_goes_on) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("bad-input"), out = in + ".out", dlq = in + ".dlq";
  test::create_topic(brokers, in, 1, {{"max.message.bytes", "16777216"}});
  test::create_topic(brokers, out, 1);
  const std::string not_utf8 = std::string("\xff\xfe\x00\xc3", 4);
  const auto truncated = task("t-cut", 100).substr(0, 40);
  produce(brokers, in,
          {{"k0", task("t0"), {}},
           {"big", task("t-big", 10 << 20), {}},  // 10 MiB
           {"", task("t-nokey"), {}},
           {"k3", task("t-bytes"), {{"trace", not_utf8}, {not_utf8, "v"}}},
           {"k4", truncated, {{"trace", not_utf8}}},
           {"k5", task("t5"), {}}});

  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.log.level = log_level::warn;
  runtime rt(cfg);
  supervision_policy policy;
  policy.dlq_topic = dlq;
  std::mutex mx;
  std::vector<std::string> handled;
  std::string trace_seen;
  rt.agent("payments").consume(in).supervision(policy).on([&](const event& e, context& ctx) {
    const auto t = e.as<test::Task>();  // a payload that does not parse is irrecoverable
    ctx.emit(out, e.key(), t.id());
    std::lock_guard lock(mx);
    handled.push_back(t.id());
    if (auto h = e.header("trace")) trace_seen = std::string(*h);
  });
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished() == 6; }, 120s))
      << "every record is finished, the 10 MiB one included";
  const auto stats = rt.stats();
  rt.stop();

  EXPECT_TRUE(stats.agents[0].healthy) << stats.agents[0].unhealthy_cause;
  EXPECT_EQ(handled, (std::vector<std::string>{"t0", "t-big", "t-nokey", "t-bytes", "t5"}))
      << "in order, the bad one skipped";
  EXPECT_EQ(trace_seen, not_utf8) << "headers reach the handler byte for byte";
  const auto outputs = test::read_all(brokers, out);
  ASSERT_EQ(outputs.size(), 5u);
  EXPECT_EQ(outputs[2].key, "") << "an empty key stays empty";

  const auto letters = test::read_all(brokers, dlq);
  ASSERT_EQ(letters.size(), 1u);
  const auto& d = letters[0];
  EXPECT_EQ(d.key, "k4");
  EXPECT_EQ(d.value, truncated) << "the truncated payload is kept byte for byte";
  EXPECT_EQ(header(d, "trace"), not_utf8) << "and its headers";
  EXPECT_EQ(header(d, dlq_header::error_class), "irrecoverable");
  const auto message = header(d, dlq_header::error_message);
  EXPECT_NE(message.find("does not parse as kactor.test.Task"), std::string::npos) << message;
  EXPECT_NE(message.find(in + "/0@4"), std::string::npos) << message;

  // The operator's tool reads that dead letter (bytes as base64 in JSON).
  const std::string cli = std::getenv("KACTOR_CLI_EXE");
  const auto log = test::binary_dir() + "/" + dlq + ".json";
  test::child_process show({cli, "dlq", "show", "--brokers", brokers, "--dlq", dlq, "--json"}, log);
  EXPECT_EQ(show.wait(60s), 0) << test::read_file(log);
  EXPECT_NE(test::read_file(log).find("_base64"), std::string::npos) << test::read_file(log);
}

TEST(bad_input_kafka, a_consumed_topic_deleted_under_the_agent_is_reported_and_the_others_go_on) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto kept = test::unique_name("kept"), doomed = test::unique_name("doomed");
  test::create_topic(brokers, kept, 1);
  test::create_topic(brokers, doomed, 1);
  test::produce_all(brokers, kept, {{"a", "1"}});
  test::produce_all(brokers, doomed, {{"b", "1"}});

  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.log.level = log_level::warn;
  runtime rt(cfg);
  std::mutex mx;
  std::multiset<std::string> seen;
  rt.agent("audit").consume(kept).consume(doomed).on([&](const event& e, context&) {
    std::lock_guard lock(mx);
    seen.insert(std::string(e.topic()) + ":" + std::string(e.key()));
  });
  ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished() == 2; }, 60s));
  test::delete_topic(brokers, doomed);
  ASSERT_TRUE(test::eventually(
      [&] {
        const auto missing = rt.stats().agents[0].missing_topics;
        return missing.size() == 1 && missing[0] == doomed;
      },
      60s))
      << "the agent reports the deleted topic as missing";
  EXPECT_FALSE(rt.stats().agents[0].ready) << "not ready while an input is missing";

  test::produce_all(brokers, kept, {{"c", "2"}});
  ASSERT_TRUE(test::eventually(
      [&] {
        std::lock_guard lock(mx);
        return seen.count(kept + ":c") == 1;
      },
      60s))
      << "the remaining topic goes on";
  rt.stop();
  std::lock_guard lock(mx);
  EXPECT_EQ(seen.size(), 3u);
}

}  // namespace
