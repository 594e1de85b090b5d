// An agent's prefetch budget on the real broker: 256 partitions with a
// backlog far larger than the budget and a slow handler. The process's
// memory stays near the budget instead of prefetching the backlog, and every
// partition's records are all handled, once each.

#include <kactor/kactor.hpp>

#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;

constexpr int kPartitions = 256;
constexpr int kPerPartition = 800;
constexpr std::size_t kValueBytes = 1000;  // 256 x 800 x 1000 B: a 205 MB backlog

/// What `drain` saw.
struct run_result {
  double peak_growth_mb = 0;
  std::vector<std::uint64_t> handled;  // per partition, at the end
  bool done = false;
};

/// Runs an agent with `budget_mb` over the backlog with a slow handler until
/// every record is handled; measures the peak RSS growth meanwhile.
run_result drain(const std::string& brokers, const std::string& topic, std::size_t budget_mb) {
  runtime_config cfg;
  cfg.brokers = brokers;
  runtime rt(cfg);
  std::mutex mx;
  run_result out;
  out.handled.assign(kPartitions, 0);
  rt.agent("slow")
      .consume(topic)
      .group(test::unique_name("budget"))
      .max_poll_records(20)
      .prefetch_budget(budget_mb)
      .on([&](const event& e, context&) {
        // 150 us per record: the backlog takes ~15 s to drain on two
        // workers and a few to prefetch, so without a budget most of it
        // sits in librdkafka's queues (174 MB of RSS growth measured).
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(150);
        while (std::chrono::steady_clock::now() < until) {
        }
        std::lock_guard lock(mx);
        ++out.handled[static_cast<std::size_t>(e.partition().value())];
      });
  test::reset_peak_rss();
  const double before = test::rss_mb("VmRSS");
  rt.start();
  constexpr std::uint64_t total = std::uint64_t{kPartitions} * kPerPartition;
  out.done =
      test::eventually([&] { return rt.stats().finished() >= total; }, std::chrono::seconds(240));
  out.peak_growth_mb = test::rss_mb("VmHWM") - before;
  rt.stop();
  return out;
}

TEST(prefetch_budget_kafka, memory_stays_near_the_budget_and_every_record_is_handled) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty()) << "KACTOR_KAFKA_DIR is not set";
  const auto topic = test::unique_name("budget-in");
  test::create_topic(brokers, topic, kPartitions);
  const std::string value(kValueBytes, 'v');
  for (int p = 0; p < kPartitions; ++p) {
    std::vector<std::pair<std::string, std::string>> records(kPerPartition, {"k", value});
    test::produce_all(brokers, topic, records, {}, p);
  }

  const auto r = drain(brokers, topic, 32);
  ASSERT_TRUE(r.done) << "every record handled";
  for (int p = 0; p < kPartitions; ++p)
    EXPECT_EQ(r.handled[static_cast<std::size_t>(p)], static_cast<std::uint64_t>(kPerPartition))
        << "partition " << p;
  // 32 MiB of prefetch, 256 x 20 held records (5 MB) and the runtime's own
  // memory (50 MB measured), against a 205 MB backlog that a 4 GiB budget
  // let grow the process by 174 MB.
  std::printf("peak RSS growth with a 32 MiB budget: %.0f MB\n", r.peak_growth_mb);
  EXPECT_LT(r.peak_growth_mb, 100.0);
  test::delete_topic(brokers, topic);
}

}  // namespace
