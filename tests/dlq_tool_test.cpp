// `kactor dlq show` and `kactor dlq redrive` against a real broker: headers
// shown, filters applied, records re-driven byte for byte exactly once.

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <kactor/dead_letter.hpp>
#include <kactor/error.hpp>
#include <nlohmann/json.hpp>

#include "src/cli/dlq_tool.hpp"
#include "src/kafka/admin.hpp"
#include "src/kafka/handles.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

struct input {
  std::int32_t partition = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The headers kactor puts on a dead-letter record.
std::vector<std::pair<std::string, std::string>> dlq_headers(const std::string& source_topic,
                                                             const std::string& cls,
                                                             const std::string& message) {
  namespace h = dlq_header;
  std::vector<std::pair<std::string, std::string>> out{{std::string(h::source_topic), source_topic},
                                                       {std::string(h::source_partition), "3"},
                                                       {std::string(h::source_offset), "17"},
                                                       {std::string(h::agent), "checker"},
                                                       {std::string(h::error_class), cls},
                                                       {std::string(h::error_message), message},
                                                       {std::string(h::attempts), "4"}};
  if (source_topic.empty()) out.erase(out.begin());
  return out;
}

enum class txn { none, commit, abort };

/// Produces `inputs` with their headers to their partitions (test::produce_all
/// takes no headers), optionally in one transaction; waits for every ack.
void produce(const std::string& brokers, const std::string& topic, const std::vector<input>& inputs,
             txn mode = txn::none) {
  detail::property_list props{{"", "bootstrap.servers", brokers},
                              {"", "enable.idempotence", "true"}};
  if (mode != txn::none) props.push_back({"", "transactional.id", test::unique_name("dlq-txn")});
  auto conf = detail::make_conf(props);
  static long failures = 0;
  failures = 0;
  rd_kafka_conf_set_dr_msg_cb(conf.get(), [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err) ++failures;
  });
  auto rk = detail::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  auto check = [](rd_kafka_error_t* e) {
    detail::error_ptr err{e};
    if (err) throw std::runtime_error(rd_kafka_error_string(err.get()));
  };
  if (mode != txn::none) {
    check(rd_kafka_init_transactions(rk.get(), 30000));
    check(rd_kafka_begin_transaction(rk.get()));
  }
  for (const auto& in : inputs) {
    kactor::detail::headers_ptr hdrs{rd_kafka_headers_new(in.headers.size())};
    for (const auto& [n, v] : in.headers)
      rd_kafka_header_add(hdrs.get(), n.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
    // The macros cast their arguments unparenthesised: no ?: inside them.
    const char* key = in.key ? in.key->data() : nullptr;
    char* value = in.value ? const_cast<char*>(in.value->data()) : nullptr;
    const std::size_t key_len = in.key ? in.key->size() : 0;
    const std::size_t value_len = in.value ? in.value->size() : 0;
    auto err = rd_kafka_producev(
        rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(in.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_HEADERS(hdrs.get()), RD_KAFKA_V_END);
    if (err) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
    (void)hdrs.release();  // the producer owns them now
  }
  // Flush first, so that even an aborted transaction's records reach the log.
  if (rd_kafka_flush(rk.get(), 30000) || failures > 0)
    throw std::runtime_error("produce: not every record was delivered");
  if (mode == txn::commit) check(rd_kafka_commit_transaction(rk.get(), 30000));
  if (mode == txn::abort) check(rd_kafka_abort_transaction(rk.get(), 30000));
}

std::vector<detail::topic_record> show(const std::string& brokers, const std::string& topic,
                                       std::size_t limit = 0) {
  std::vector<detail::topic_record> out;
  const auto n = detail::read_dlq(brokers, topic, limit, 30s,
                                  [&](const detail::topic_record& r) { out.push_back(r); });
  EXPECT_EQ(n, out.size());
  return out;
}

detail::redrive_summary redrive(detail::redrive_options opts,
                                std::vector<detail::redrive_step>* steps = nullptr) {
  opts.timeout = 30s;
  return detail::redrive_dlq(opts, [&](const detail::redrive_step& s) {
    if (steps) steps->push_back(s);
  });
}

/// The group's committed offset for `dlq`/0, or -1 when it has none.
std::int64_t committed(const std::string& brokers, const std::string& dlq) {
  try {
    auto lag = detail::query_group_lag(brokers, detail::redrive_group(dlq), 10s);
    return lag.partitions.at(0).committed;
  } catch (const kafka_exception& e) {
    if (std::string(e.what()).find("no committed offsets") != std::string::npos) return -1;
    throw;
  }
}

const std::string binary_value("\x00\xff\xfe payload\n", 12);

struct dlq_tool : ::testing::Test {
  void SetUp() override {
    brokers = test::kafka_bootstrap();
    ASSERT_FALSE(brokers.empty());
    dlq = test::unique_name("orders.dlq");
    source = test::unique_name("orders");
    other = test::unique_name("orders.fixed");
    test::create_topic(brokers, dlq, 2);
    test::create_topic(brokers, source, 1);
    test::create_topic(brokers, other, 1);
  }
  std::string brokers, dlq, source, other;
};

TEST(dlq_tool_line, a_long_value_shows_its_start_and_its_size) {
  detail::topic_record r;
  // 63 ASCII bytes, then 'é' (2 bytes) straddling the 64-byte preview.
  r.value = std::string(63, 'a') + "\xc3\xa9" + std::string(100, 'b');
  const auto line = detail::format_dlq_line(r);
  EXPECT_NE(line.find("value=\"" + std::string(63, 'a') + "\"...(165 bytes)"), std::string::npos)
      << line;
  r.value = std::string(64, 'a');
  EXPECT_NE(detail::format_dlq_line(r).find("value=\"" + std::string(64, 'a') + "\" "),
            std::string::npos)
      << "64 bytes fit whole";
}

TEST_F(dlq_tool, show_returns_records_in_partition_order_with_their_headers) {
  auto h = dlq_headers(source, "irrecoverable", "bad \"amount\"\nline 2");
  h.emplace_back("trace-id", "t-1");
  produce(brokers, dlq,
          {{1, "k2", "v2", dlq_headers(source, "retriable", "timeout")},
           {0, "k0", binary_value, h},
           {0, std::nullopt, "v1", dlq_headers("", "irrecoverable", "no source")}});

  const auto records = show(brokers, dlq);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].partition, 0);
  EXPECT_EQ(records[0].offset, 0);
  EXPECT_EQ(records[0].key, "k0");
  EXPECT_EQ(records[0].value, binary_value);
  EXPECT_EQ(records[0].header(dlq_header::error_class), "irrecoverable");
  EXPECT_EQ(records[0].header("trace-id"), "t-1");
  EXPECT_EQ(records[0].headers.size(), 8u);
  EXPECT_EQ(records[1].offset, 1);
  EXPECT_EQ(records[1].key, std::nullopt);
  EXPECT_EQ(records[2].partition, 1);
  EXPECT_EQ(records[2].header(dlq_header::error_message), "timeout");

  EXPECT_EQ(
      detail::format_dlq_line(records[0]),
      "partition=0 offset=0 key=\"k0\" value=\"\\x00\\xFF\\xFE payload\\n\" source=" + source +
          "/3@17 agent=checker class=irrecoverable attempts=4 "
          "error=\"bad \\\"amount\\\"\\nline 2\"");
  EXPECT_EQ(detail::format_dlq_line(records[1]),
            "partition=0 offset=1 key=- value=\"v1\" source=- agent=checker class=irrecoverable "
            "attempts=4 error=\"no source\"");

  const auto binary = nlohmann::json::parse(detail::format_dlq_json(records[0]));
  EXPECT_EQ(binary["key"], "k0");
  EXPECT_FALSE(binary.contains("value"));
  EXPECT_EQ(binary["value_base64"], "AP/+IHBheWxvYWQK");
  EXPECT_EQ(binary["headers"].size(), 8u);
  EXPECT_EQ(binary["headers"][7]["name"], "trace-id");
  EXPECT_EQ(binary["headers"][7]["value"], "t-1");
  const auto text = nlohmann::json::parse(detail::format_dlq_json(records[1]));
  EXPECT_TRUE(text["key"].is_null());
  EXPECT_EQ(text["value"], "v1");

  EXPECT_EQ(show(brokers, dlq, 2).size(), 2u);
}

TEST_F(dlq_tool, the_cli_shows_a_dead_letter_topic_and_names_an_unknown_one) {
  const char* exe = std::getenv("KACTOR_CLI_EXE");
  ASSERT_NE(exe, nullptr);
  produce(brokers, dlq, {{0, "k0", "v0", dlq_headers(source, "irrecoverable", "boom")}});
  const auto log = test::binary_dir() + "/" + dlq + ".log";
  {
    test::child_process cli({exe, "dlq", "show", "--brokers", brokers, "--dlq", dlq}, log);
    EXPECT_EQ(cli.wait(60s), 0) << test::read_file(log);
  }
  EXPECT_NE(
      test::read_file(log).find("partition=0 offset=0 key=\"k0\" value=\"v0\" source=" + source +
                                "/3@17 agent=checker class=irrecoverable attempts=4 "
                                "error=\"boom\""),
      std::string::npos)
      << test::read_file(log);
  {
    test::child_process cli(
        {exe, "dlq", "redrive", "--brokers", brokers, "--dlq", "no-such-dlq-here"}, log);
    EXPECT_EQ(cli.wait(60s), 1) << test::read_file(log);
  }
  EXPECT_NE(test::read_file(log).find("dead-letter topic no-such-dlq-here does not exist"),
            std::string::npos)
      << test::read_file(log);
}

TEST_F(dlq_tool, redrive_moves_matching_records_byte_for_byte_once) {
  auto a = dlq_headers(source, "irrecoverable", "bad");
  a.insert(a.begin(), {"trace-id", "t-1"});
  a.emplace_back(std::string(dlq_header::error_class), "irrecoverable");  // the last one counts
  auto stale = dlq_headers(source, "irrecoverable", "old");
  stale.emplace_back(std::string(dlq_header::error_class), "retriable");
  produce(brokers, dlq,
          {{0, "ka", binary_value, a},
           {0, "kb", "vb", dlq_headers(source, "retriable", "slow")},
           {0, std::nullopt, "vc", dlq_headers(source, "irrecoverable", "bad")},
           {0, "kd", "vd", dlq_headers("", "irrecoverable", "no source")},
           {1, "ke", "", stale}});

  std::vector<detail::redrive_step> steps;
  auto summary = redrive({brokers, dlq, "", {{"kactor.dlq.error.class", "irrecoverable"}}}, &steps);
  EXPECT_EQ(summary.group, "kactor-redrive." + dlq);
  EXPECT_EQ(summary.examined, 5);
  EXPECT_EQ(summary.redriven, (std::map<std::string, std::int64_t>{{source, 2}}));
  EXPECT_EQ(summary.not_matching, 2);
  EXPECT_EQ(summary.no_target, 1);
  EXPECT_EQ(summary.reached, (std::map<std::int32_t, std::int64_t>{{0, 4}, {1, 1}}));
  ASSERT_EQ(steps.size(), 5u);
  for (const auto& s : steps)
    EXPECT_EQ(s.what == detail::redrive_step::outcome::no_target,
              s.partition == 0 && s.offset == 3);

  const auto moved = show(brokers, source);
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_EQ(moved[0].key, "ka");
  EXPECT_EQ(moved[0].value, binary_value);
  EXPECT_EQ(moved[0].headers, (decltype(moved[0].headers){{"trace-id", "t-1"},
                                                          {"kactor.redrive.from", dlq + "/0@0"}}));
  EXPECT_EQ(moved[1].key, std::nullopt);
  EXPECT_EQ(moved[1].value, "vc");
  EXPECT_EQ(moved[1].headers, (decltype(moved[1].headers){{"kactor.redrive.from", dlq + "/0@2"}}));
  EXPECT_EQ(committed(brokers, dlq), 4);

  // Everything examined was committed past: a second run, even unfiltered, moves nothing.
  summary = redrive({brokers, dlq});
  EXPECT_EQ(summary.examined, 0);
  EXPECT_TRUE(summary.redriven.empty());
  EXPECT_TRUE(summary.reached.empty());
  EXPECT_EQ(show(brokers, source).size(), 2u);

  // New dead letters are picked up where the group left off.
  produce(brokers, dlq, {{0, "kf", "vf", dlq_headers(source, "retriable", "late")}});
  summary = redrive({brokers, dlq});
  EXPECT_EQ(summary.examined, 1);
  EXPECT_EQ(summary.redriven, (std::map<std::string, std::int64_t>{{source, 1}}));
  EXPECT_EQ(show(brokers, source).back().key, "kf");
}

TEST_F(dlq_tool, degraded_dead_letters_are_marked_in_show_and_refused_by_redrive) {
  namespace h = dlq_header;
  auto omitted = dlq_headers(source, "irrecoverable", "too big");
  omitted.emplace_back(std::string(h::value_omitted), "true");
  omitted.emplace_back(std::string(h::value_size), "2097152");
  auto minimal = omitted;
  minimal.emplace_back(std::string(h::key_omitted), "true");
  minimal.emplace_back(std::string(h::headers_omitted), "true");
  auto cut = dlq_headers(source, "irrecoverable", "long...[truncated]");
  cut.emplace_back(std::string(h::error_message_size), "921617");
  produce(brokers, dlq,
          {{0, "ka", std::nullopt, omitted},
           {0, std::nullopt, std::nullopt, minimal},
           {0, "kc", "vc", cut}});

  const auto records = show(brokers, dlq);
  ASSERT_EQ(records.size(), 3u);
  const std::string context = "source=" + source + "/3@17 agent=checker class=irrecoverable ";
  EXPECT_EQ(detail::format_dlq_line(records[0]),
            "partition=0 offset=0 key=\"ka\" value=- " + context +
                "attempts=4 error=\"too big\" omitted=value value_size=2097152");
  EXPECT_EQ(detail::format_dlq_line(records[1]),
            "partition=0 offset=1 key=- value=- " + context +
                "attempts=4 error=\"too big\" omitted=value,key,headers value_size=2097152");
  EXPECT_EQ(detail::format_dlq_line(records[2]),
            "partition=0 offset=2 key=\"kc\" value=\"vc\" " + context +
                "attempts=4 error=\"long...[truncated]\" error_size=921617");

  std::vector<detail::redrive_step> steps;
  auto summary = redrive({brokers, dlq}, &steps);
  EXPECT_EQ(summary.examined, 3);
  EXPECT_EQ(summary.value_omitted, 2);
  EXPECT_EQ(summary.redriven, (std::map<std::string, std::int64_t>{{source, 1}}));
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].what, detail::redrive_step::outcome::value_omitted);
  EXPECT_EQ(steps[0].source, source + "/3@17") << "where the original is";
  EXPECT_EQ(steps[1].what, detail::redrive_step::outcome::value_omitted);
  EXPECT_EQ(steps[2].what, detail::redrive_step::outcome::redriven);
  const auto moved = show(brokers, source);
  ASSERT_EQ(moved.size(), 1u) << "no null value was sent back";
  EXPECT_EQ(moved[0].key, "kc");
  EXPECT_EQ(committed(brokers, dlq), 3) << "refused records are committed past";
}

TEST_F(dlq_tool, a_dry_run_moves_nothing_and_commits_nothing) {
  produce(brokers, dlq,
          {{0, "k0", "v0", dlq_headers(source, "irrecoverable", "bad")},
           {1, "k1", "v1", dlq_headers(source, "retriable", "slow")}});
  detail::redrive_options opts{brokers, dlq};
  opts.dry_run = true;
  std::ostringstream progress;
  opts.progress = &progress;
  opts.progress_every = 0ms;  // every record counts as a long run
  std::vector<detail::redrive_step> steps;
  auto summary = redrive(opts, &steps);
  EXPECT_EQ(summary.examined, 2);
  EXPECT_NE(progress.str().find("kactor dlq redrive: examined 2 of 2 record(s), "),
            std::string::npos)
      << progress.str();
  EXPECT_EQ(summary.redriven, (std::map<std::string, std::int64_t>{{source, 2}}));
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].target, source);
  EXPECT_TRUE(show(brokers, source).empty());
  EXPECT_EQ(committed(brokers, dlq), -1);

  summary = redrive({brokers, dlq});
  EXPECT_EQ(summary.redriven, (std::map<std::string, std::int64_t>{{source, 2}}));
  EXPECT_EQ(show(brokers, source).size(), 2u);
}

TEST_F(dlq_tool, to_overrides_the_source_topic) {
  produce(brokers, dlq,
          {{0, "k0", "v0", dlq_headers(source, "irrecoverable", "bad")},
           {0, "k1", "v1", dlq_headers("", "irrecoverable", "no source")}});
  auto summary = redrive({brokers, dlq, other});
  EXPECT_EQ(summary.redriven, (std::map<std::string, std::int64_t>{{other, 2}}));
  EXPECT_EQ(summary.no_target, 0);
  EXPECT_TRUE(show(brokers, source).empty());
  const auto moved = show(brokers, other);
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_EQ(moved[1].key, "k1");
}

TEST_F(dlq_tool, transaction_markers_and_aborted_records_do_not_stall_reading) {
  produce(brokers, dlq, {{0, "k0", "v0", dlq_headers(source, "irrecoverable", "bad")}},
          txn::commit);
  produce(brokers, dlq, {{0, "gone", "x", dlq_headers(source, "irrecoverable", "bad")}},
          txn::abort);
  produce(brokers, dlq, {{0, "k1", "v1", dlq_headers(source, "irrecoverable", "bad")}},
          txn::commit);
  const auto records = show(brokers, dlq);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].key, "k1");
  auto summary = redrive({brokers, dlq});
  EXPECT_EQ(summary.examined, 2);
  EXPECT_EQ(summary.reached.at(0), 6);  // past both records, the aborted one and three markers
  EXPECT_EQ(show(brokers, source).size(), 2u);
}

TEST_F(dlq_tool, unknown_topics_and_brokers_are_errors_naming_them) {
  auto expect_error = [](const std::function<void()>& f, const std::string& text) {
    try {
      f();
      ADD_FAILURE() << "expected an error naming " << text;
    } catch (const kafka_exception& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  expect_error([&] { show(brokers, "no-such-dlq"); }, "dead-letter topic no-such-dlq");
  expect_error([&] { redrive({brokers, "no-such-dlq"}); }, "dead-letter topic no-such-dlq");
  produce(brokers, dlq, {{0, "k0", "v0", dlq_headers("no-such-source", "retriable", "x")}});
  expect_error([&] { redrive({brokers, dlq, "no-such-target"}); }, "target topic no-such-target");
  expect_error([&] { redrive({brokers, dlq}); }, "target topic no-such-source");
  EXPECT_EQ(committed(brokers, dlq), -1);
  expect_error(
      [&] { detail::read_dlq("127.0.0.1:1", dlq, 0, 2s, [](const detail::topic_record&) {}); },
      "127.0.0.1:1");
}

}  // namespace
