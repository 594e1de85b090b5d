// `kactor trace` against a real broker: one trip's records across the saga's
// topics in timestamp order, by key or by a header, from a time on, as text
// and JSON, with progress on long scans; the CLI's exit codes for bad
// arguments, a bad pattern and unreachable brokers.

#include "src/cli/trace_tool.hpp"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "src/kafka/handles.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

struct input {
  std::string topic;
  std::int32_t partition;
  std::int64_t timestamp_ms;
  std::string key, value;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Produces `inputs` with their timestamps and headers; waits for every ack.
void produce(const std::string& brokers, const std::vector<input>& inputs) {
  auto rk = detail::make_client(RD_KAFKA_PRODUCER,
                                detail::make_conf({{"", "bootstrap.servers", brokers}}));
  for (const auto& in : inputs) {
    detail::headers_ptr hdrs{rd_kafka_headers_new(in.headers.size())};
    for (const auto& [n, v] : in.headers)
      rd_kafka_header_add(hdrs.get(), n.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
    auto err = rd_kafka_producev(
        rk.get(), RD_KAFKA_V_TOPIC(in.topic.c_str()), RD_KAFKA_V_PARTITION(in.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(in.key.data(), in.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(in.value.data()), in.value.size()),
        RD_KAFKA_V_TIMESTAMP(in.timestamp_ms), RD_KAFKA_V_HEADERS(hdrs.get()), RD_KAFKA_V_END);
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    (void)hdrs.release();  // the producer owns them now
  }
  ASSERT_EQ(rd_kafka_flush(rk.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

struct trace_run {
  int code = -1;
  std::vector<std::string> lines;
  std::string err;
};

trace_run trace(detail::trace_options o) {
  std::ostringstream out, err;
  trace_run r;
  r.code = detail::run_trace(o, out, err);
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) r.lines.push_back(line);
  r.err = err.str();
  return r;
}

struct saga_topics : ::testing::Test {
  std::string brokers = test::kafka_bootstrap();
  std::string prefix = test::unique_name("saga");
  std::string trips = prefix + ".trip.requested", flights = prefix + ".flight.booked",
              hotels = prefix + ".hotel.failed";
  // Timestamps in a second of 2025-12-01; their order is not the topics'.
  static constexpr std::int64_t t0 = 1764583200000;

  void SetUp() override {
    ASSERT_FALSE(brokers.empty());
    test::create_topic(brokers, trips, 2);
    test::create_topic(brokers, flights, 2);
    test::create_topic(brokers, hotels, 1);
    ASSERT_NO_FATAL_FAILURE(
        produce(brokers, {{trips, 0, t0 + 100, "trip-1", "requested", {{"saga", "s-1"}}},
                          {trips, 1, t0 + 200, "trip-2", "requested", {{"saga", "s-2"}}},
                          {flights, 1, t0 + 300, "trip-1", "booked", {{"saga", "s-1"}}},
                          {flights, 0, t0 + 150, "trip-1", "held", {{"saga", "s-1"}}},
                          {hotels, 0, t0 + 400, "trip-1", "no rooms", {{"saga", "s-1"}}},
                          {hotels, 0, t0 + 500, "trip-2", "no rooms", {{"saga", "s-2"}}}}));
  }

  detail::trace_options options() const {
    detail::trace_options o;
    o.brokers = brokers;
    o.topics = prefix + "\\.trip\\..*," + prefix + "\\.flight\\..*";
    return o;
  }
};

TEST_F(saga_topics, a_key_across_topics_comes_in_timestamp_order_with_its_headers) {
  auto o = options();
  o.key = "trip-1";
  const auto r = trace(o);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 3u) << r.err << "\nthe hotel topic matches no pattern";
  EXPECT_EQ(r.lines[0], "2025-12-01T10:00:00.100Z " + trips +
                            "/0@0 key=\"trip-1\" saga=\"s-1\" value=\"requested\"");
  EXPECT_EQ(r.lines[1].rfind("2025-12-01T10:00:00.150Z " + flights + "/0@0 ", 0), 0u) << r.lines[1];
  EXPECT_EQ(r.lines[2].rfind("2025-12-01T10:00:00.300Z " + flights + "/1@0 ", 0), 0u) << r.lines[2];
  EXPECT_NE(r.err.find("3 record(s) from 2 topic(s)"), std::string::npos) << r.err;
}

TEST_F(saga_topics, a_header_value_picks_its_records_and_from_drops_earlier_ones) {
  auto o = options();
  o.topics = prefix + "\\..*";
  o.header = std::make_pair(std::string("saga"), std::string("s-2"));
  auto r = trace(o);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 2u) << r.err;
  EXPECT_NE(r.lines[0].find(trips + "/1@0"), std::string::npos) << r.lines[0];
  EXPECT_NE(r.lines[1].find(hotels + "/0@1"), std::string::npos) << r.lines[1];

  o.header = std::make_pair(std::string("saga"), std::string("s-1"));
  o.from_ms = t0 + 200;
  r = trace(o);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 2u) << "only the records at or after the time";
  EXPECT_NE(r.lines[0].find("10:00:00.300Z"), std::string::npos) << r.lines[0];
  EXPECT_NE(r.lines[1].find("10:00:00.400Z"), std::string::npos) << r.lines[1];
}

TEST_F(saga_topics, json_has_one_object_per_record_and_long_scans_report_progress) {
  auto o = options();
  o.key = "trip-2";
  o.json = true;
  o.progress_every = 0ms;  // every record counts as a long scan
  const auto r = trace(o);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("kactor trace: scanned 1 of 4 record(s)"), std::string::npos) << r.err;
  ASSERT_EQ(r.lines.size(), 1u);
  const auto j = nlohmann::json::parse(r.lines[0]);
  EXPECT_EQ(j["topic"], trips);
  EXPECT_EQ(j["partition"], 1);
  EXPECT_EQ(j["offset"], 0);
  EXPECT_EQ(j["timestamp"], t0 + 200);
  EXPECT_EQ(j["time"], "2025-12-01T10:00:00.200Z");
  EXPECT_EQ(j["key"], "trip-2");
  EXPECT_EQ(j["value"], "requested");
  EXPECT_EQ(j["headers"][0]["name"], "saga");
  EXPECT_EQ(j["headers"][0]["value"], "s-2");
}

TEST_F(saga_topics, bad_patterns_and_no_matching_topic_exit_2_naming_them) {
  auto o = options();
  o.key = "trip-1";
  o.topics = prefix + ".trip.*," + prefix + ".hotel[";
  auto r = trace(o);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad topic pattern '" + prefix + ".hotel['"), std::string::npos) << r.err;
  o.topics = prefix + "\\.car\\..*";
  r = trace(o);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no topic matches"), std::string::npos) << r.err;
}

TEST(trace_tool_kafka, unreachable_brokers_exit_1_naming_them) {
  detail::trace_options o;
  o.brokers = "127.0.0.1:1";
  o.topics = ".*";
  o.key = "k";
  o.timeout = 2s;
  const auto r = trace(o);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("127.0.0.1:1"), std::string::npos) << r.err;
}

TEST(trace_tool_kafka, the_command_line_needs_a_key_or_a_header_and_a_readable_time) {
  const char* cli = std::getenv("KACTOR_CLI_EXE");
  ASSERT_NE(cli, nullptr);
  const std::string base = std::string(cli) + " trace --brokers 127.0.0.1:1 --topics 'a.*'";
  EXPECT_EQ(WEXITSTATUS(std::system((base + " 2>/dev/null").c_str())), 2) << "neither given";
  EXPECT_EQ(WEXITSTATUS(std::system((base + " --header nameonly 2>/dev/null").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system((base + " --key k --from yesterday 2>/dev/null").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system((base + " --key k --timeout-ms 1000 2>/dev/null").c_str())), 1)
      << "valid arguments, unreachable brokers";
}

}  // namespace
