// Security settings on a real broker's SASL_PLAINTEXT listener (SCRAM-SHA-256)
// and SSL listener (a certificate signed by a throwaway CA), both started by
// scripts/kafka.sh: an agent works with the right credentials or CA, passed
// through `kafka.*` to every client; a wrong password or an untrusted
// certificate fails `start` fast with a clear error instead of hanging; and
// the password appears in no log line (librdkafka's included, at debug),
// error or metrics text.

#include <kactor/kactor.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

const std::string kUser = "kactor-test";
const std::string kPassword = "kactor-test-secret";  // scripts/kafka.sh

/// Every log line kactor and librdkafka write, in memory.
struct captured_log {
  std::mutex mx;
  std::vector<std::string> lines;
  std::string all() {
    std::lock_guard lock(mx);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

/// A new input topic (through the plaintext listener) with four records,
/// and its output topic; both of two partitions.
std::pair<std::string, std::string> four_records(const std::string& brokers,
                                                 const std::string& name) {
  const auto in = test::unique_name(name), out = in + ".out";
  test::create_topic(brokers, in, 2);
  test::create_topic(brokers, out, 2);
  test::produce_all(brokers, in, {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}});
  return {in, out};
}

runtime_config sasl_config(const std::string& password, captured_log& log) {
  runtime_config cfg;
  cfg.brokers = test::kafka_sasl_bootstrap();
  cfg.kafka = {{"security.protocol", "SASL_PLAINTEXT"},
               {"sasl.mechanisms", "SCRAM-SHA-256"},
               {"sasl.username", kUser},
               {"sasl.password", password},
               // librdkafka's own lines on connecting, authenticating and its
               // configuration, into the captured log.
               {"debug", "security,broker,conf"}};
  cfg.commit_interval = 200ms;
  cfg.metrics.listen = "0";
  cfg.log.level = log_level::debug;
  cfg.log.sink = [&log](log_level, std::string_view m) {
    std::lock_guard lock(log.mx);
    log.lines.emplace_back(m);
  };
  return cfg;
}

TEST(security_kafka, an_agent_works_over_sasl_scram_and_its_password_is_in_no_output) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  ASSERT_FALSE(test::kafka_sasl_bootstrap().empty());
  const auto topics = four_records(brokers, "sasl-in");
  const std::string &in = topics.first, &out = topics.second;

  captured_log log;
  std::string metrics;
  {
    runtime rt(sasl_config(kPassword, log));
    rt.agent("copy").consume(in).produces(out).on(
        [&](const event& e, context& ctx) { ctx.emit(out, e.key(), e.value()); });
    ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished() == 4; }, 60s));
    httplib::Client http("127.0.0.1", rt.metrics_port());
    auto res = http.Get("/metrics");
    ASSERT_TRUE(res);
    metrics = res->body;
    rt.stop();
  }
  const auto copied = test::read_all(brokers, out, 30s);
  EXPECT_EQ(copied.size(), 4u) << "every record went through the SASL listener and out";

  const auto lines = log.all();
  EXPECT_NE(lines.find("SASL"), std::string::npos) << "librdkafka's debug lines were captured";
  EXPECT_NE(lines.find("sasl.username"), std::string::npos)
      << "its configuration dump was captured:\n"
      << lines.substr(0, 2000);
  EXPECT_EQ(lines.find(kPassword), std::string::npos) << "the password is in a log line";
  EXPECT_EQ(metrics.find(kPassword), std::string::npos);
  EXPECT_NE(metrics.find("kactor_"), std::string::npos);
}

TEST(security_kafka, a_wrong_password_fails_start_fast_with_a_clear_error_that_hides_it) {
  ASSERT_FALSE(test::kafka_sasl_bootstrap().empty());
  const std::string wrong = "not-the-Pa55word-9f2c";
  captured_log log;
  runtime rt(sasl_config(wrong, log));
  rt.agent("copy").consume(test::unique_name("sasl-never")).on([](const event&, context&) {});
  const auto started = std::chrono::steady_clock::now();
  std::string what;
  try {
    rt.start();
    FAIL() << "start succeeded with a wrong password";
  } catch (const kafka_exception& e) {
    what = e.what();
    EXPECT_EQ(e.info().cls, error_class::fatal);
  }
  const auto took = std::chrono::steady_clock::now() - started;
  // Not a speed figure: "fails fast" means before the 10 s wait for brokers
  // that do not answer, which is what an unreported authentication failure
  // used to cost.
  EXPECT_LT(took, 8s) << "start waited as for brokers that do not answer";
  EXPECT_NE(what.find("cannot authenticate"), std::string::npos) << what;
  EXPECT_NE(what.find("invalid credentials"), std::string::npos) << what;
  EXPECT_NE(what.find("sasl.password"), std::string::npos) << "names the setting: " << what;
  EXPECT_EQ(what.find(wrong), std::string::npos) << what;
  rt.stop();
  EXPECT_EQ(log.all().find(wrong), std::string::npos) << "the password is in a log line";
}

runtime_config ssl_config(const std::string& ca) {
  runtime_config cfg;
  cfg.brokers = test::kafka_ssl_bootstrap();
  cfg.kafka = {{"security.protocol", "SSL"}, {"ssl.ca.location", ca}};
  cfg.commit_interval = 200ms;
  return cfg;
}

TEST(security_kafka, an_agent_works_over_ssl_trusting_the_brokers_ca) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  ASSERT_FALSE(test::kafka_ssl_bootstrap().empty());
  const auto topics = four_records(brokers, "ssl-in");
  const std::string &in = topics.first, &out = topics.second;
  {
    runtime rt(ssl_config(test::kafka_ca_path()));
    rt.agent("copy").consume(in).produces(out).on(
        [&](const event& e, context& ctx) { ctx.emit(out, e.key(), e.value()); });
    ASSERT_TRUE(rt.run_until([](const runtime_stats& s) { return s.finished() == 4; }, 60s));
    rt.stop();
  }
  EXPECT_EQ(test::read_all(brokers, out, 30s).size(), 4u)
      << "every record went through the SSL listener and out";
}

TEST(security_kafka, a_broker_certificate_from_an_untrusted_ca_fails_start_fast) {
  ASSERT_FALSE(test::kafka_ssl_bootstrap().empty());
  // Another throwaway CA: the broker's certificate is not signed by it.
  test::temp_dir dir("other_ca");
  const auto ca = dir.sub("ca.pem");
  const auto make_ca =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca "
      "-keyout " +
      dir.sub("ca.key") + " -out " + ca + " 2>/dev/null";
  ASSERT_EQ(std::system(make_ca.c_str()), 0) << make_ca;
  runtime rt(ssl_config(ca));
  rt.agent("copy").consume(test::unique_name("ssl-never")).on([](const event&, context&) {});
  const auto started = std::chrono::steady_clock::now();
  std::string what;
  try {
    rt.start();
    FAIL() << "start succeeded although the broker's certificate is not trusted";
  } catch (const kafka_exception& e) {
    what = e.what();
    EXPECT_EQ(e.info().cls, error_class::fatal);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 8s)
      << "start waited as for brokers that do not answer";
  EXPECT_NE(what.find("cannot authenticate"), std::string::npos) << what;
  EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
  EXPECT_NE(what.find("ssl.*"), std::string::npos) << "names the settings: " << what;
  rt.stop();
}

}  // namespace
