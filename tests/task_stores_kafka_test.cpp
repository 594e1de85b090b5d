// State stores on the real broker, across processes' lives: a clean restart
// resumes from the checkpoints (nothing to read), a lost state directory is
// restored whole from the changelogs, and the counts stay exact throughout.

#include <kactor/kactor.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "state/checkpoint.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

constexpr int kPartitions = 4;

struct counting_run {
  std::string brokers = test::kafka_bootstrap();
  std::string words = test::unique_name("words");
  std::string out = test::unique_name("counts");
  std::string group = test::unique_name("wc");
  std::string dir;
  std::map<std::string, long long> oracle;

  counting_run() {
    std::string tmpl = testing::TempDir() + "kactor_stores_kafka_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    test::create_topic(brokers, words, kPartitions);
    test::create_topic(brokers, out, kPartitions);
  }
  ~counting_run() { std::filesystem::remove_all(dir); }

  void feed(int records, int keys, int offset) {
    std::vector<std::pair<std::string, std::string>> batch;
    for (int i = 0; i < records; ++i) {
      const auto key = "key-" + std::to_string((i + offset) % keys);
      batch.emplace_back(key, "x");
      ++oracle[key];
    }
    test::produce_all(brokers, words, batch);
  }

  /// One process's life: counts until `records` more are finished, then stops
  /// cleanly. Returns its stats at the end.
  runtime_stats count(std::uint64_t records) {
    runtime_config cfg;
    cfg.brokers = brokers;
    cfg.commit_interval = 200ms;
    cfg.state_dir = dir;
    runtime rt(cfg);
    rt.agent("counter").consume(words).group(group).store("counts").on(
        [&](const event& e, context& ctx) {
          auto& counts = ctx.kv("counts");
          const auto before = counts.get(e.key());
          const auto n = std::to_string(before ? std::stoll(*before) + 1 : 1);
          counts.put(e.key(), n);
          ctx.emit(out, e.key(), n);
        });
    EXPECT_TRUE(rt.run_until([&](const runtime_stats& s) { return s.finished() >= records; }, 120s))
        << "finished " << rt.stats().finished() << " of " << records;
    rt.stop();
    auto s = rt.stats();
    EXPECT_EQ(s.finished(), records) << "records handled again after a clean stop";
    return s;
  }

  std::uint64_t restored(const runtime_stats& s, std::uint64_t partition_stats::*field) const {
    std::uint64_t n = 0;
    for (const auto& p : s.agents.at(0).partitions) n += p.*field;
    return n;
  }

  /// The last record per key of `topic`.
  std::map<std::string, long long> last_per_key(const std::string& topic) const {
    std::map<std::string, long long> last;
    for (auto& r : test::read_all(brokers, topic)) last[r.key] = std::stoll(r.value);
    return last;
  }
};

TEST(task_stores_kafka, a_store_survives_a_clean_restart_and_a_lost_state_directory) {
  counting_run run;
  ASSERT_FALSE(run.brokers.empty());
  const auto changelog = run.group + "-counts-changelog";

  run.feed(20000, 2000, 0);
  auto first = run.count(20000);
  EXPECT_EQ(run.restored(first, &partition_stats::to_restore), 0u) << "a new changelog is empty";
  for (int p = 0; p < kPartitions; ++p) {
    const auto ck = detail::read_checkpoint(run.dir + "/" + run.group + "/counts/" +
                                            std::to_string(p) + ".checkpoint");
    EXPECT_TRUE(ck.offset) << "partition " << p << ": " << ck.problem;
  }

  // A clean restart: every store resumes from its checkpoint at the
  // changelog's end, and the counts go on from the stored values.
  run.feed(2000, 2000, 0);
  auto second = run.count(2000);
  EXPECT_EQ(run.restored(second, &partition_stats::to_restore), 0u)
      << "a checkpoint at the changelog's end leaves nothing to read";

  // The disk is lost: each store is restored from the whole changelog (22000
  // writes so far, not yet compacted away at this size) before its partition
  // handles a record.
  std::filesystem::remove_all(run.dir);
  std::filesystem::create_directories(run.dir);
  run.feed(2000, 2000, 0);
  auto third = run.count(2000);
  EXPECT_EQ(run.restored(third, &partition_stats::to_restore), 22000u);
  EXPECT_EQ(run.restored(third, &partition_stats::restored), 22000u);

  EXPECT_EQ(run.last_per_key(run.out), run.oracle) << "every count emitted is exact";
  EXPECT_EQ(run.last_per_key(changelog), run.oracle) << "the changelog holds the counts";
}

}  // namespace
