// Poison records on the real broker never stop their partition: a record
// whose failure message embeds a large payload is dead-lettered with the
// message cut; one too large for the dead-letter topic is dead-lettered
// without its value (the broker or the producer refusing the full form); a
// dead-letter topic that cannot be written escalates its partition (paused,
// agent unhealthy with the cause) while the others go on; an emit to a topic
// that does not exist dead-letters its record, naming the topic, within
// seconds, and a declared output that does not exist stops the start.

#include <kactor/dead_letter.hpp>
#include <kactor/kactor.hpp>

#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

bool exactly_once(processing_guarantee g) {
  return g == processing_guarantee::exactly_once;
}

std::string name_of(processing_guarantee g) {
  return exactly_once(g) ? "exactly_once" : "at_least_once";
}

runtime_config config(const std::string& brokers) {
  runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = 200ms;
  return cfg;
}

supervision_policy policy(const std::string& dlq) {
  supervision_policy p;
  p.max_retries = 1;
  p.backoff_base = 50ms;
  p.backoff_max = 200ms;
  p.dlq_topic = dlq;
  return p;
}

/// What an agent's handler saw, from its partition actors.
struct seen_records {
  std::mutex mx;
  std::set<std::string> done;                             // keys handled without failing
  std::map<std::int64_t, steady::time_point> first_seen;  // offset -> first handling

  void saw(const event& e) {
    std::lock_guard lock(mx);
    first_seen.emplace(e.offset().value(), steady::now());
  }
  void finished(const event& e) {
    std::lock_guard lock(mx);
    done.insert(std::string(e.key()));
  }
  std::size_t finished_count() {
    std::lock_guard lock(mx);
    return done.size();
  }
};

std::uint64_t dead_lettered(const runtime& rt) {
  std::uint64_t n = 0;
  // The stats must outlive the loop: a range-for keeps only its last
  // reference alive, not the temporary it was taken from.
  const auto stats = rt.stats();
  for (const auto& p : stats.agents.at(0).partitions) n += p.dead_lettered;
  return n;
}

std::string header(const test::record& r, std::string_view name) {
  auto it = r.headers.find(std::string(name));
  return it == r.headers.end() ? "<missing>" : it->second;
}

class poison_kafka : public ::testing::TestWithParam<processing_guarantee> {};

TEST_P(poison_kafka,
       a_large_record_whose_message_embeds_it_is_dead_lettered_and_its_partition_goes_on) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("large-poison"), out = in + ".out", dlq = in + ".dlq";
  test::create_topic(brokers, in, 1);
  test::create_topic(brokers, out, 1);
  const std::string payload = "malformed:" + std::string(900 * 1024, 'x');  // 900 KiB
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 20; ++i)
    records.emplace_back(i == 5 ? "poison" : "k" + std::to_string(i),
                         i == 5 ? payload : "order-" + std::to_string(i));
  test::produce_all(brokers, in, records);

  runtime rt(config(brokers));
  seen_records seen;
  auto agent = rt.agent("payments").consume(in).supervision(policy(dlq));
  if (exactly_once(GetParam())) agent.exactly_once();
  agent.on([&](const event& e, context& ctx) {
    seen.saw(e);
    if (e.value().substr(0, 10) == "malformed:")  // the payment step quotes what it rejects
      throw irrecoverable_error("malformed order: " + std::string(e.value()));
    ctx.emit(out, e.key(), e.value());
    seen.finished(e);
  });
  rt.start();
  ASSERT_TRUE(test::eventually([&] {
    return dead_lettered(rt) == 1 && seen.finished_count() == 19;
  })) << "dead-lettered "
      << dead_lettered(rt) << ", processed " << seen.finished_count();
  const auto stats = rt.stats();
  rt.stop();

  EXPECT_TRUE(stats.agents[0].healthy) << stats.agents[0].unhealthy_cause;
  {
    std::lock_guard lock(seen.mx);
    const auto wait = seen.first_seen.at(6) - seen.first_seen.at(5);
    EXPECT_LT(wait, 10s) << "the record after the poison waited "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()
                         << " ms";
  }
  const auto letters = test::read_all(brokers, dlq);
  ASSERT_EQ(letters.size(), 1u) << "exactly one dead letter for the poison record";
  const auto& d = letters[0];
  EXPECT_EQ(d.key, "poison");
  EXPECT_EQ(d.value, payload) << "the value fits: kept byte for byte";
  const auto message = header(d, dlq_header::error_message);
  EXPECT_EQ(message.size(), dlq_header::max_value);
  EXPECT_EQ(message.substr(0, 27), "malformed order: malformed:");
  EXPECT_EQ(message.substr(message.size() - dlq_header::truncated_marker.size()),
            dlq_header::truncated_marker);
  EXPECT_EQ(header(d, dlq_header::error_message_size),
            std::to_string(std::string("malformed order: ").size() + payload.size()));
  EXPECT_EQ(header(d, dlq_header::source_offset), "5");
  EXPECT_EQ(test::read_all(brokers, out).size(), 19u);
}

TEST_P(poison_kafka, an_emit_to_a_missing_topic_dead_letters_its_record_naming_the_topic) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("no-output"), missing = in + ".completed", dlq = in + ".dlq";
  test::create_topic(brokers, in, 1);
  test::produce_all(brokers, in, {{"a", "1"}, {"b", "2"}, {"c", "3"}});

  runtime rt(config(brokers));
  auto agent = rt.agent("orders").consume(in).supervision(policy(dlq));
  if (exactly_once(GetParam())) agent.exactly_once();
  agent.on([&](const event& e, context& ctx) { ctx.emit(missing, e.key(), e.value()); });
  const auto started = steady::now();
  rt.start();
  ASSERT_TRUE(test::eventually([&] { return dead_lettered(rt) == 3; }));
  const auto took = steady::now() - started;
  // topic.metadata.propagation.max.ms (kactor's default 5 s), then the
  // group join, a rewind and librdkafka's metadata round (about 1 s).
  EXPECT_LT(took, 20s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                       << " ms until every record was dead-lettered";
  const auto stop_from = steady::now();
  rt.stop();
  const auto stopping = steady::now() - stop_from;
  EXPECT_LT(stopping, 5s) << "stop waited "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(stopping).count()
                          << " ms";

  const auto letters = test::read_all(brokers, dlq);
  ASSERT_EQ(letters.size(), 3u);
  std::set<std::string> keys;
  for (const auto& d : letters) {
    keys.insert(d.key);
    EXPECT_EQ(header(d, dlq_header::error_class), "irrecoverable");
    EXPECT_NE(header(d, dlq_header::error_message).find(missing), std::string::npos)
        << header(d, dlq_header::error_message);
  }
  EXPECT_EQ(keys, (std::set<std::string>{"a", "b", "c"}));
}

INSTANTIATE_TEST_SUITE_P(guarantees, poison_kafka,
                         ::testing::Values(processing_guarantee::at_least_once,
                                           processing_guarantee::exactly_once),
                         [](const auto& info) { return name_of(info.param); });

/// A record bigger than the dead-letter topic takes; `big_producer` raises
/// kactor's producer limit so that the broker, not librdkafka, refuses it.
struct too_large_case {
  processing_guarantee guarantee;
  bool big_producer;
};

class too_large_for_the_dlq : public ::testing::TestWithParam<too_large_case> {};

TEST_P(too_large_for_the_dlq, the_dead_letter_omits_the_value_and_the_partition_goes_on) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("huge-poison"), out = in + ".out", dlq = in + ".dlq";
  test::create_topic(brokers, in, 1, {{"max.message.bytes", "4194304"}});
  test::create_topic(brokers, out, 1);
  const std::string huge(2 << 20, 'h');  // 2 MiB: the source takes it, the default DLQ does not
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 8; ++i)
    records.emplace_back("k" + std::to_string(i), i == 3 ? huge : "order-" + std::to_string(i));
  test::produce_all(brokers, in, records, {{"", "message.max.bytes", "5000000"}});

  auto cfg = config(brokers);
  if (GetParam().big_producer) cfg.producer["message.max.bytes"] = "5000000";
  runtime rt(cfg);
  seen_records seen;
  auto agent = rt.agent("images").consume(in).supervision(policy(dlq));
  if (exactly_once(GetParam().guarantee)) agent.exactly_once();
  agent.on([&](const event& e, context& ctx) {
    if (e.value().size() > 1000) throw irrecoverable_error("image too large to resize");
    ctx.emit(out, e.key(), e.value());
    seen.finished(e);
  });
  rt.start();
  ASSERT_TRUE(test::eventually([&] {
    return dead_lettered(rt) == 1 && seen.finished_count() == 7;
  })) << "dead-lettered "
      << dead_lettered(rt) << ", processed " << seen.finished_count();
  const auto stats = rt.stats();
  rt.stop();

  EXPECT_TRUE(stats.agents[0].healthy) << stats.agents[0].unhealthy_cause;
  const auto letters = test::read_all(brokers, dlq);
  ASSERT_EQ(letters.size(), 1u);
  const auto& d = letters[0];
  EXPECT_TRUE(d.value.empty());
  EXPECT_EQ(d.key, "k3");
  EXPECT_EQ(header(d, dlq_header::value_omitted), "true");
  EXPECT_EQ(header(d, dlq_header::value_size), std::to_string(huge.size()));
  EXPECT_NE(header(d, dlq_header::degraded_because).find("too large"), std::string::npos)
      << header(d, dlq_header::degraded_because);
  EXPECT_EQ(header(d, dlq_header::source_topic), in);
  EXPECT_EQ(header(d, dlq_header::source_offset), "3");
  EXPECT_EQ(header(d, dlq_header::error_message), "image too large to resize");
  EXPECT_EQ(test::read_all(brokers, out).size(), 7u);
}

INSTANTIATE_TEST_SUITE_P(
    guarantees_and_limits, too_large_for_the_dlq,
    ::testing::Values(too_large_case{processing_guarantee::at_least_once, false},
                      too_large_case{processing_guarantee::at_least_once, true},
                      too_large_case{processing_guarantee::exactly_once, false},
                      too_large_case{processing_guarantee::exactly_once, true}),
    [](const auto& info) {
      return name_of(info.param.guarantee) +
             (info.param.big_producer ? "_refused_by_the_broker" : "_refused_by_librdkafka");
    });

TEST(poison_kafka_dlq, a_dead_letter_topic_that_is_gone_escalates_its_partition_and_no_other) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("lost-dlq"), dlq = in + ".dlq";
  test::create_topic(brokers, in, 2);

  runtime rt(config(brokers));
  seen_records seen;
  rt.agent("audit").consume(in).supervision(policy(dlq)).on([&](const event& e, context&) {
    if (e.value() == "bad") throw irrecoverable_error("unreadable audit entry");
    seen.finished(e);
  });
  rt.start();  // creates the dead-letter topic
  test::produce_all(brokers, in, {{"a0", "ok"}, {"a1", "ok"}}, {}, 0);
  test::produce_all(brokers, in, {{"b0", "ok"}, {"b1", "ok"}}, {}, 1);
  ASSERT_TRUE(test::eventually([&] { return seen.finished_count() == 4; }));
  test::delete_topic(brokers, dlq);  // an operator's mistake
  test::produce_all(brokers, in, {{"a2", "bad"}, {"a3", "ok"}}, {}, 0);
  test::produce_all(brokers, in, {{"b2", "ok"}, {"b3", "ok"}}, {}, 1);

  ASSERT_TRUE(test::eventually([&] { return !rt.stats().agents[0].healthy; }));
  // a3 is handled while the dead letter of a2 is pending, as any record
  // after a failed one; none of them is committed past a2.
  ASSERT_TRUE(test::eventually([&] { return seen.finished_count() == 7; }))
      << "partition 1 goes on: " << seen.finished_count() << " of 7";
  const auto stats = rt.stats();
  rt.stop();

  const auto& agent = stats.agents[0];
  EXPECT_FALSE(agent.healthy);
  EXPECT_NE(agent.unhealthy_cause.find(in + "/0"), std::string::npos) << agent.unhealthy_cause;
  EXPECT_NE(agent.unhealthy_cause.find(dlq), std::string::npos) << agent.unhealthy_cause;
  for (const auto& p : agent.partitions) {
    if (p.tp.partition.value() == 0) {
      EXPECT_TRUE(p.escalated);
      EXPECT_NE(p.escalation_cause.find(in + "/0@2"), std::string::npos) << p.escalation_cause;
      EXPECT_EQ(p.stored_offset, 2) << "nothing past the poison record is committed";
      EXPECT_EQ(p.dead_lettered, 0u);
    } else {
      EXPECT_FALSE(p.escalated);
    }
  }
}

TEST(poison_kafka_dlq, a_dead_letter_topic_the_client_may_not_write_escalates_its_partition) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("denied-dlq"), dlq = in + ".dlq";
  test::create_topic(brokers, in, 2);
  test::create_topic(brokers, dlq, 1);
  test::deny_writes(brokers, dlq);
  test::produce_all(brokers, in, {{"a0", "ok"}, {"a1", "bad"}, {"a2", "ok"}}, {}, 0);
  test::produce_all(brokers, in, {{"b0", "ok"}, {"b1", "ok"}, {"b2", "ok"}}, {}, 1);

  runtime rt(config(brokers));
  seen_records seen;
  rt.agent("audit").consume(in).supervision(policy(dlq)).on([&](const event& e, context&) {
    if (e.value() == "bad") throw irrecoverable_error("unreadable audit entry");
    seen.finished(e);
  });
  rt.start();
  ASSERT_TRUE(test::eventually([&] { return !rt.stats().agents[0].healthy; }));
  ASSERT_TRUE(test::eventually([&] { return seen.finished_count() == 5; }))
      << "partition 1 goes on: " << seen.finished_count() << " of 5";
  const auto stats = rt.stats();
  rt.stop();

  const auto& agent = stats.agents[0];
  EXPECT_NE(agent.unhealthy_cause.find(in + "/0@1"), std::string::npos) << agent.unhealthy_cause;
  EXPECT_NE(agent.unhealthy_cause.find("authorization"), std::string::npos)
      << agent.unhealthy_cause;
  for (const auto& p : agent.partitions) {
    EXPECT_EQ(p.escalated, p.tp.partition.value() == 0) << p.tp.partition.value();
    if (p.tp.partition.value() == 0) EXPECT_EQ(p.stored_offset, 1);
  }
}

TEST(poison_kafka_dlq, a_dead_letter_topic_no_topic_can_be_named_stops_the_start) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("bad-dlq-name");
  test::create_topic(brokers, in, 1);
  runtime rt(config(brokers));
  rt.agent("audit").consume(in).supervision(policy("dead letters!")).on([](const event&, context&) {
  });
  try {
    rt.start();
    ADD_FAILURE() << "started with a dead-letter topic that cannot exist";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "agents.audit.supervision.dlq_topic") << e.what();
    EXPECT_NE(std::string(e.what()).find("dead letters!"), std::string::npos) << e.what();
  }
}

TEST(poison_kafka_dlq, a_declared_output_that_does_not_exist_stops_the_start_naming_it) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto in = test::unique_name("declared"), out = in + ".out";
  test::create_topic(brokers, in, 1);
  test::create_topic(brokers, out, 1);
  runtime rt(config(brokers));
  rt.agent("orders")
      .consume(in)
      .produces(out)
      .produces(in + ".completed")
      .produces(in + ".audit")
      .on([](const event&, context&) {});
  try {
    rt.start();
    ADD_FAILURE() << "started with missing outputs";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.key(), "agents.orders.produces");
    EXPECT_NE(what.find(in + ".completed"), std::string::npos) << what;
    EXPECT_NE(what.find(in + ".audit"), std::string::npos) << what;
    EXPECT_EQ(what.find(out + " "), std::string::npos) << "the existing one is not named: " << what;
  }
}

}  // namespace
