// State stores on the real broker, across processes' lives: a clean restart
// resumes from the checkpoints (nothing to read), a lost state directory is
// restored whole from the changelogs, partitions move between members with
// their state while the others keep going, and the counts stay exact.

#include <kactor/kactor.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "state/checkpoint.hpp"
#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

constexpr int kPartitions = 4;

/// The counting behaviour: the record's key counted in the store "counts",
/// the new count emitted to `out`.
void count_in_store(const event& e, context& ctx, const std::string& out) {
  auto& counts = ctx.kv("counts");
  const auto before = counts.get(e.key());
  const auto n = std::to_string(before ? std::stoll(*before) + 1 : 1);
  counts.put(e.key(), n);
  ctx.emit(out, e.key(), n);
}

struct counting_run {
  std::string brokers = test::kafka_bootstrap();
  std::string words = test::unique_name("words");
  std::string out = test::unique_name("counts");
  std::string group = test::unique_name("wc");
  test::temp_dir state{"stores_kafka"};
  const std::string& dir = state.path;
  std::map<std::string, long long> oracle;

  counting_run() {
    test::create_topic(brokers, words, kPartitions);
    test::create_topic(brokers, out, kPartitions);
  }

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
        [&](const event& e, context& ctx) { count_in_store(e, ctx, out); });
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
  EXPECT_EQ(run.restored(third, &partition_stats::restored_total), 22000u)
      << "the process's counter, whose rate is the restore rate";
  for (const auto& p : third.agents.at(0).partitions)
    EXPECT_GT(p.restore_time.count(), 0) << "partition " << p.tp.partition.value();

  EXPECT_EQ(run.last_per_key(run.out), run.oracle) << "every count emitted is exact";
  EXPECT_EQ(run.last_per_key(changelog), run.oracle) << "the changelog holds the counts";
}

/// The longest time each partition went without handling a record since
/// `start`, counting the gap still open when asked.
struct gap_meter {
  using clock = std::chrono::steady_clock;
  std::mutex mx;
  clock::time_point since = clock::now();
  std::map<int, clock::time_point> last;
  std::map<int, clock::duration> longest;

  void handled(int partition) {
    const auto now = clock::now();
    std::lock_guard lock(mx);
    auto [it, first] = last.try_emplace(partition, since);
    longest[partition] = std::max(longest[partition], now - std::max(it->second, since));
    it->second = now;
  }
  /// Measures from now on.
  void start() {
    std::lock_guard lock(mx);
    since = clock::now();
    longest.clear();
  }
  std::chrono::milliseconds longest_of(const std::set<int>& partitions) {
    const auto now = clock::now();
    std::lock_guard lock(mx);
    clock::duration m{0};
    for (int p : partitions) {
      const auto it = last.find(p);
      const auto open = now - (it == last.end() ? since : std::max(it->second, since));
      m = std::max({m, longest[p], open});
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(m);
  }
};

TEST(task_stores_kafka, partitions_move_with_their_state_and_the_others_keep_going_meanwhile) {
  constexpr int kMoving = 6, kPad = 2400000, kKeys = 300;
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto words = test::unique_name("words"), out = test::unique_name("counts"),
             group = test::unique_name("wc"), changelog = group + "-counts-changelog";
  test::create_topic(brokers, words, kMoving);
  test::create_topic(brokers, out, kMoving);
  // A large store: 400k records of 100 bytes per changelog partition, under
  // keys the counts never use, so each restore from scratch takes a while.
  test::create_topic(brokers, changelog, kMoving, {{"cleanup.policy", "compact"}});
  {
    std::vector<std::pair<std::string, std::string>> pad;
    for (int i = 0; i < kPad; ++i)
      pad.emplace_back("pad-" + std::to_string(i), std::string(100, 'p'));
    for (int p = 0; p < kMoving; ++p) {
      std::vector<std::pair<std::string, std::string>> part;
      for (int i = p; i < kPad; i += kMoving) part.push_back(pad[i]);
      test::produce_all(brokers, changelog, part, {}, p);
    }
  }
  const test::temp_dir state{"stores_move"};
  const std::string& root = state.path;
  gap_meter gaps;
  std::mutex oracle_mx;
  std::map<std::string, long long> oracle;
  auto member = [&](const std::string& name) {
    runtime_config cfg;
    cfg.brokers = brokers;
    cfg.commit_interval = 200ms;
    cfg.state_dir = root + "/" + name;
    // Members learn of a rebalance at their next heartbeat.
    cfg.consumer["heartbeat.interval.ms"] = "500";
    auto rt = std::make_unique<runtime>(cfg);
    rt->agent("counter").consume(words).group(group).store("counts").on(
        [&](const event& e, context& ctx) {
          count_in_store(e, ctx, out);
          gaps.handled(e.partition().value());
        });
    return rt;
  };
  auto holds = [](runtime& rt) {
    std::set<int> out;
    const auto stats = rt.stats();
    for (const auto& p : stats.agents.at(0).partitions)
      if (p.assigned) out.insert(p.tp.partition.value());
    return out;
  };
  auto restoring = [](runtime& rt) {
    const auto stats = rt.stats();
    for (const auto& p : stats.agents.at(0).partitions)
      if (p.assigned && p.restoring) return true;
    return false;
  };
  // A steady input over every partition while members come and go (its pace
  // is load, not synchronisation).
  std::atomic<bool> feeding{true};
  std::thread feeder([&] {
    test::producer feed(brokers);
    for (int round = 0; feeding; ++round) {
      std::vector<std::pair<std::string, std::string>> batch;
      for (int k = 0; k < kKeys; ++k) batch.emplace_back("key-" + std::to_string(k), "x");
      feed.produce_all(words, batch);
      {
        std::lock_guard lock(oracle_mx);
        for (auto& [k, v] : batch) ++oracle[k];
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  auto a = member("a"), b = member("b");
  a->start();
  b->start();
  ASSERT_TRUE(test::eventually(
      [&] {
        return holds(*a).size() + holds(*b).size() == kMoving && !restoring(*a) && !restoring(*b);
      },
      180s));
  const auto kept_a = holds(*a), kept_b = holds(*b);

  // C joins: the partitions it takes are restored from scratch there, from
  // their assignment until C handles their records.
  auto c = member("c");
  c->start();
  ASSERT_TRUE(test::eventually([&] { return !holds(*c).empty(); }, 180s));
  gaps.start();
  const auto assigned = std::chrono::steady_clock::now();
  ASSERT_TRUE(test::eventually([&] { return !restoring(*c); }, 180s));
  const auto restore_window = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - assigned);
  std::set<int> unmoved;
  for (int p : holds(*a))
    if (kept_a.count(p)) unmoved.insert(p);
  for (int p : holds(*b))
    if (kept_b.count(p)) unmoved.insert(p);
  ASSERT_FALSE(unmoved.empty());
  std::uint64_t c_restored = 0;
  const auto stats = c->stats();
  for (const auto& p : stats.agents.at(0).partitions) c_restored += p.restored;
  const auto gap = gaps.longest_of(unmoved);
  std::printf(
      "C restored %llu records of %zu partition(s) within %lld ms of their assignment; the "
      "longest gap of the %zu unmoved partition(s) meanwhile: %lld ms\n",
      static_cast<unsigned long long>(c_restored), holds(*c).size(),
      static_cast<long long>(restore_window.count()), unmoved.size(),
      static_cast<long long>(gap.count()));
  EXPECT_GE(c_restored, static_cast<std::uint64_t>(kPad / kMoving)) << "a whole partition restored";
  EXPECT_LT(gap * 3, restore_window) << "the unmoved partitions stood still during the restore";

  // C leaves: its partitions go back, resumed from the checkpoints their
  // last owners wrote, plus what C logged.
  c->stop();
  ASSERT_TRUE(test::eventually(
      [&] {
        return holds(*a).size() + holds(*b).size() == kMoving && !restoring(*a) && !restoring(*b);
      },
      180s));
  feeding = false;
  feeder.join();
  ASSERT_TRUE(test::eventually(
      [&] { return test::group_caught_up(brokers, group, words, kMoving); }, 120s));
  a->stop();
  b->stop();

  std::map<std::string, long long> emitted, logged;
  for (auto& r : test::read_all(brokers, out)) emitted[r.key] = std::stoll(r.value);
  for (auto& r : test::read_all(brokers, changelog))
    if (r.key.rfind("pad-", 0) != 0) logged[r.key] = std::stoll(r.value);
  EXPECT_EQ(emitted, oracle) << "every count exact through two moves";
  EXPECT_EQ(logged, oracle);
}

TEST(task_stores_kafka, a_stop_during_a_restore_cancels_it_promptly) {
  constexpr int kRecords = 2000000;
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto words = test::unique_name("words"), group = test::unique_name("wc");
  const auto changelog = group + "-counts-changelog";
  test::create_topic(brokers, words, 1);
  test::create_topic(brokers, changelog, 1, {{"cleanup.policy", "compact"}});
  {
    std::vector<std::pair<std::string, std::string>> records;
    for (int i = 0; i < kRecords; ++i)
      records.emplace_back("k" + std::to_string(i), std::string(100, 'v'));
    test::produce_all(brokers, changelog, records, {}, 0);
  }
  const test::temp_dir state{"stores_cancel"};
  const std::string& dir = state.path;
  auto member = [&] {
    runtime_config cfg;
    cfg.brokers = brokers;
    cfg.state_dir = dir;
    auto rt = std::make_unique<runtime>(cfg);
    rt->agent("counter").consume(words).group(group).store("counts").on(
        [](const event&, context&) {});
    return rt;
  };
  auto partition = [](runtime& rt) { return rt.stats().agents.at(0).partitions.at(0); };
  auto rt = member();
  rt->start();
  // Well into the restore: some records read, most still to read.
  ASSERT_TRUE(test::eventually(
      [&] {
        auto s = rt->stats().agents.at(0).partitions;
        return !s.empty() && s[0].restoring && s[0].restored > 0;
      },
      120s));
  EXPECT_FALSE(rt->stats().agents.at(0).ready) << "not ready while a partition restores";
  const auto asked = std::chrono::steady_clock::now();
  rt->stop();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - asked);
  const auto at_stop = partition(*rt);
  std::printf("a stop during a restore took %lld ms; %llu of %llu records read\n",
              static_cast<long long>(took.count()),
              static_cast<unsigned long long>(at_stop.restored),
              static_cast<unsigned long long>(at_stop.to_restore));
  EXPECT_LT(at_stop.restored, at_stop.to_restore) << "the restore stopped before its end";
  EXPECT_LT(took, 2000ms) << "a stop waits for one fetch of the restore, not for all of it";

  // The next start restores the whole store (no checkpoint was written).
  rt = member();
  rt->start();
  ASSERT_TRUE(test::eventually(
      [&] {
        auto s = rt->stats().agents.at(0).partitions;
        return !s.empty() && s[0].assigned && !s[0].restoring;
      },
      120s));
  EXPECT_EQ(partition(*rt).restored, static_cast<std::uint64_t>(kRecords));
  EXPECT_TRUE(rt->stats().agents.at(0).ready) << "ready once every partition is restored";
  rt->stop();
}

}  // namespace
