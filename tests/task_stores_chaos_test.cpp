// State stores through SIGKILLs, on the real broker, with the word_count
// example as the process killed: 200k records over 20k keys counted in the
// store "counts", the process killed five times at random points and
// started again each time (its stores restored from the changelog). Then
// the state directory is deleted and the store restored whole.
//
// exactly_once: every key's counts read at read_committed are 1, 2, ..., n,
// each once, and the changelog's last value is n. at_least_once: no key's
// count is ever lower than the number of its records, every key is there.
// And at_least_once, one SIGKILL costs the next start only what came after
// its stores' last checkpoints.

#include <kactor/kactor.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "src/group/task_stores.hpp"
#include "state/checkpoint.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

constexpr int kPartitions = 4, kKeys = 20000, kRecords = 200000, kKills = 5;

struct word_count_run {
  bool exactly_once;
  std::string brokers = test::kafka_bootstrap();
  std::string prefix = test::unique_name("wc") + ".";
  std::string input = prefix + "words", out = prefix + "word.counts";
  std::string group = prefix + "word_count", changelog = group + "-counts-changelog";
  std::string dir = test::binary_dir() + "/" + prefix + "state";
  int starts = 0;

  explicit word_count_run(bool eos) : exactly_once(eos) {
    test::create_topic(brokers, input, kPartitions);
    test::create_topic(brokers, out, kPartitions);
  }
  ~word_count_run() { std::filesystem::remove_all(dir); }

  std::string stats_path() const { return dir + ".stats.json"; }

  /// A word_count process. Static membership: a restarted process rejoins at
  /// once and its transactional id fences its killed predecessor's.
  std::unique_ptr<test::child_process> start() {
    std::vector<std::string> argv{std::getenv("KACTOR_WORD_COUNT_EXE"),
                                  "--brokers",
                                  brokers,
                                  "--prefix",
                                  prefix,
                                  "--stats",
                                  stats_path(),
                                  "--set",
                                  "state_dir=" + dir,
                                  "--set",
                                  "agents.word_count.group_instance_id=w0",
                                  "--set",
                                  "consumer.session.timeout.ms=6000",
                                  "--set",
                                  "consumer.heartbeat.interval.ms=500"};
    if (exactly_once) argv.push_back("--exactly-once");
    const auto log = dir + ".log." + std::to_string(++starts);
    return std::make_unique<test::child_process>(argv, log);
  }

  /// The output's records so far, read or not (aborted ones included).
  std::int64_t outputs() const {
    std::int64_t n = 0;
    for (auto o : test::end_offsets(brokers, out, "read_uncommitted")) n += o;
    return n;
  }

  bool caught_up() const { return test::group_caught_up(brokers, group, input, kPartitions); }

  /// Records the process restored, by its last stats.
  std::uint64_t restored() const {
    auto j = nlohmann::json::parse(test::read_file(stats_path()), nullptr, false);
    std::uint64_t n = 0;
    if (j.is_discarded() || !j.contains("agents")) return 0;
    for (auto& a : j["agents"])
      for (auto& p : a["partitions"]) n += p["restored"].get<std::uint64_t>();
    return n;
  }

  /// Each key's counts in the order they were committed.
  std::map<std::string, std::vector<long long>> counts(const std::string& topic) const {
    std::map<std::string, std::vector<long long>> out;
    for (auto& r : test::read_all(brokers, topic, 120s)) out[r.key].push_back(std::stoll(r.value));
    return out;
  }

  void expect_counts(long long n) const {
    const auto emitted = counts(out);
    const auto logged = counts(changelog);
    ASSERT_EQ(emitted.size(), static_cast<std::size_t>(kKeys)) << "every key counted";
    ASSERT_EQ(logged.size(), static_cast<std::size_t>(kKeys)) << "every key stored";
    int wrong = 0;
    for (const auto& [key, seen] : emitted) {
      bool ok;
      if (exactly_once) {
        std::vector<long long> expected(n);
        for (long long i = 0; i < n; ++i) expected[i] = i + 1;
        ok = seen == expected && logged.at(key).back() == n;
      } else {
        ok = *std::max_element(seen.begin(), seen.end()) >= n && logged.at(key).back() >= n;
      }
      if (!ok && ++wrong <= 3) {
        std::string s;
        for (auto c : seen) s += std::to_string(c) + " ";
        ADD_FAILURE() << key << ": counts emitted " << s << "; stored " << logged.at(key).back()
                      << "; records " << n;
      }
    }
    EXPECT_EQ(wrong, 0) << "keys whose counts are wrong";
  }

  /// One more record per key, counted by a new process until the input's
  /// end, which then stops cleanly.
  void one_more_per_key() {
    std::vector<std::pair<std::string, std::string>> more;
    for (int k = 0; k < kKeys; ++k) more.emplace_back("key-" + std::to_string(k), "more");
    test::produce_all(brokers, input, more);
    auto worker = start();
    ASSERT_TRUE(test::eventually([&] { return caught_up(); }, 300s));
    worker->signal(SIGTERM);
    ASSERT_EQ(worker->wait(60s), 0);
  }

  void run() {
    ASSERT_FALSE(brokers.empty());
    test::produce_all(brokers, input, test::sequenced(kRecords, kKeys));
    auto worker = start();
    std::mt19937 rng(std::random_device{}());
    for (int kill = 0; kill < kKills; ++kill) {
      // A random point: once the output grew by 5k-30k records (aborted ones
      // too), or the input is done.
      const auto target = outputs() + std::uniform_int_distribution<int>(5000, 30000)(rng);
      ASSERT_TRUE(test::eventually([&] { return outputs() >= target || caught_up(); }, 180s))
          << "no progress before kill " << kill;
      worker->signal(SIGKILL);
      ASSERT_EQ(worker->wait(10s), 128 + SIGKILL);
      worker = start();
    }
    ASSERT_TRUE(test::eventually([&] { return caught_up(); }, 300s))
        << "the group never reached the input's end";
    worker->signal(SIGTERM);
    ASSERT_EQ(worker->wait(60s), 0);
    expect_counts(kRecords / kKeys);

    // The disk is lost: the store comes back whole from the changelog, and
    // one more record per key counts on from it.
    std::filesystem::remove_all(dir);
    ASSERT_NO_FATAL_FAILURE(one_more_per_key());
    EXPECT_GE(restored(), static_cast<std::uint64_t>(kRecords)) << "the whole changelog read";
    expect_counts(kRecords / kKeys + 1);
  }

  /// The changelog's records, every partition.
  std::uint64_t logged() const {
    std::uint64_t n = 0;
    for (auto o : test::end_offsets(brokers, changelog, "read_committed"))
      n += static_cast<std::uint64_t>(o);
    return n;
  }

  /// at_least_once: one SIGKILL after the input is handled; the next process
  /// restores only what came after each store's last checkpoint, written
  /// while the killed one ran.
  void crash_after_handling_all() {
    ASSERT_FALSE(brokers.empty());
    test::produce_all(brokers, input, test::sequenced(kRecords, kKeys));
    auto worker = start();
    ASSERT_TRUE(test::eventually([&] { return caught_up(); }, 300s));
    // ~50k writes per partition, checkpointed every 10k while it runs: once
    // idle, every store's last checkpoint is within 10k of its changelog's end.
    const std::string stores = dir + "/" + group + "/counts/";
    const auto every = static_cast<std::int64_t>(detail::task_stores::checkpoint_every);
    auto checkpointed = [&] {
      const auto ends = test::end_offsets(brokers, changelog, "read_committed");
      for (int p = 0; p < kPartitions; ++p) {
        const auto at = detail::read_checkpoint(stores + std::to_string(p) + ".checkpoint");
        if (!at.offset || *at.offset < ends.at(p) - every) return false;
      }
      return true;
    };
    ASSERT_TRUE(test::eventually(checkpointed, 30s)) << "no recent checkpoint while running";
    worker->signal(SIGKILL);
    ASSERT_EQ(worker->wait(10s), 128 + SIGKILL);
    const auto total = logged();

    ASSERT_NO_FATAL_FAILURE(one_more_per_key());
    std::printf("after a SIGKILL: %llu of %llu changelog records restored\n",
                static_cast<unsigned long long>(restored()),
                static_cast<unsigned long long>(total));
    EXPECT_LE(restored(), static_cast<std::uint64_t>(kPartitions * every))
        << "the restart resumed from the checkpoints, not the changelog's start";
    expect_counts(kRecords / kKeys + 1);
  }
};

TEST(task_stores_chaos, exactly_once_counts_stay_exact_through_sigkills_and_a_lost_disk) {
  word_count_run(true).run();
}

TEST(task_stores_chaos, at_least_once_counts_never_fall_behind_through_sigkills) {
  word_count_run(false).run();
}

TEST(task_stores_chaos, at_least_once_resumes_from_checkpoints_after_a_crash) {
  word_count_run(false).crash_after_handling_all();
}

}  // namespace
