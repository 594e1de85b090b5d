// restore_bench: how fast a task's stores come back from their changelog.
//
// A changelog of 1M keys with 100-byte values over 8 partitions is produced
// once; each repetition restores all 8 partitions into fresh stores the way
// the restorer does (task_stores::restore, one partition after another), and
// in the same repetition loads the same records into fresh RocksDB instances
// with WriteBatches of the same size, straight from memory: the baseline, so
// `ratio` (restore MB/s over raw MB/s) compares within one run.
//
//   KACTOR_BROKERS=$(cat /tmp/k/bootstrap.txt) build/benchmarks/restore_bench
//   build/benchmarks/restore_bench        # embedded cluster
//
// Counters: restore_MBps, restore_rec_per_s, raw_MBps, ratio.
//
// BM_first_record: an agent whose store is that changelog starts on an empty
// state directory; each of its 8 partitions has one input record. From the
// moment the member holds its partitions (stats polled every millisecond)
// to each partition's first handled record: first_ms (the first partition),
// last_ms (the last one; the agent's restores run one after another).
//
// BM_gap_while_restoring (real broker only): a member holding all 8 restored
// partitions handles a steady feed while a second member joins and restores
// the 4 it takes from scratch: gap_ms, the longest a kept partition went
// without a record during that restore (restore_ms).

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/write_batch.h>

#include "benchmarks/bench_support.hpp"
#include "src/group/task_stores.hpp"
#include "src/kafka/admin.hpp"
#include "src/kafka/steady_feeder.hpp"
#include "state/rocks_store.hpp"
#include "tests/temp_dir.hpp"

namespace {

using namespace kactor;
using namespace kactor::detail;

constexpr int kPartitions = 8;
constexpr int kKeys = 1000000;
constexpr std::size_t kValueBytes = 100;

std::string key_of(int i) {
  return "key-" + std::to_string(i);
}

/// The changelog, produced once per process.
const std::string& changelog(bench::cluster& c) {
  static const std::string topic = [&] {
    const auto t = test::unique_name("restore-bench") + "-counts-changelog";
    if (c.embedded())
      c.create_topic(t, kPartitions);  // the mock has no topic configs
    else
      test::create_topic(c.brokers(), t, kPartitions, {{"cleanup.policy", "compact"}});
    const std::string value(kValueBytes, 'v');
    for (int p = 0; p < kPartitions; ++p) {
      std::vector<std::pair<std::string, std::string>> part;
      for (int i = p; i < kKeys; i += kPartitions) part.emplace_back(key_of(i), value);
      test::produce_all(c.brokers(), t, part, {}, p);
    }
    return t;
  }();
  return topic;
}

/// The group whose store `counts` has `changelog` as its changelog.
std::string group_of(const std::string& changelog) {
  return changelog.substr(0, changelog.size() - std::string("-counts-changelog").size());
}

void BM_restore(benchmark::State& state) {
  bench::cluster cluster;
  const auto group = group_of(changelog(cluster));
  const double bytes = static_cast<double>(kKeys) * (kValueBytes + key_of(kKeys / 2).size());
  auto memory = std::make_shared<store_memory>(std::size_t{128} << 20);
  changelog_reader reader({{"", "bootstrap.servers", cluster.brokers()}});
  double restore_s = 0, raw_s = 0;
  for (auto _ : state) {
    const test::temp_dir tmp("restore_bench");
    const auto& dir = tmp.path;
    auto layout = std::make_shared<store_layout>();
    layout->agent = "bench";
    layout->group = group;
    layout->root = dir + "/restore";
    layout->stores = {"counts"};
    layout->memory = memory;
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t restored = 0;
    for (int p = 0; p < kPartitions; ++p) {
      auto counters = std::make_shared<partition_counters>();
      task_stores task(layout, partition_id{p}, counters);
      if (!task.restore(reader)) state.SkipWithError("restore cancelled");
      restored += counters->restored;
    }
    const auto t1 = std::chrono::steady_clock::now();
    // The baseline: the same records, from memory, in batches of the same size.
    const std::string value(kValueBytes, 'v');
    for (int p = 0; p < kPartitions; ++p) {
      auto db = rocks_store::open(dir + "/raw/" + std::to_string(p), *memory);
      rocksdb::WriteBatch batch;
      for (int i = p; i < kKeys; i += kPartitions) {
        batch.Put(key_of(i), value);
        if (batch.Count() >= 10000) {
          db->write(batch);
          batch.Clear();
        }
      }
      if (batch.Count() > 0) db->write(batch);
    }
    const auto t2 = std::chrono::steady_clock::now();
    if (restored != static_cast<std::uint64_t>(kKeys)) state.SkipWithError("restored too few");
    restore_s += std::chrono::duration<double>(t1 - t0).count();
    raw_s += std::chrono::duration<double>(t2 - t1).count();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["restore_MBps"] = bytes * n / restore_s / 1e6;
  state.counters["restore_rec_per_s"] = kKeys * n / restore_s;
  state.counters["raw_MBps"] = bytes * n / raw_s / 1e6;
  state.counters["ratio"] = raw_s / restore_s;
  state.SetLabel(cluster.describe());
}
BENCHMARK(BM_restore)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_first_record(benchmark::State& state) {
  bench::cluster cluster;
  const auto group = group_of(changelog(cluster));
  const auto input = group + "-in";
  cluster.create_topic(input, kPartitions);
  double first_ms = 0, last_ms = 0;
  for (auto _ : state) {
    const test::temp_dir tmp("restore_bench");
    const auto& dir = tmp.path;
    auto cfg = bench::config();
    cfg.brokers = cluster.brokers();
    cfg.state_dir = dir;
    runtime rt(cfg);
    std::mutex mx;
    std::map<int, std::chrono::steady_clock::time_point> first;
    rt.agent("bench").consume(input).group(group).store("counts").on([&](const event& e, context&) {
      std::lock_guard lock(mx);
      first.try_emplace(e.partition().value(), std::chrono::steady_clock::now());
    });
    for (int p = 0; p < kPartitions; ++p)
      test::produce_all(cluster.brokers(), input, {{"k", "v"}}, {}, p);
    rt.start();
    std::chrono::steady_clock::time_point assigned{};
    while (assigned == std::chrono::steady_clock::time_point{}) {
      const auto stats = rt.stats();
      for (const auto& p : stats.agents.at(0).partitions)
        if (p.assigned) assigned = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    test::eventually([&] {
      std::lock_guard lock(mx);
      return !first.empty() && rt.stats().finished() >= kPartitions;
    });
    std::lock_guard lock(mx);
    auto ms = [&](std::chrono::steady_clock::time_point t) {
      return std::chrono::duration<double, std::milli>(t - assigned).count();
    };
    double lo = 1e18, hi = 0;
    for (const auto& [p, t] : first) {
      lo = std::min(lo, ms(t));
      hi = std::max(hi, ms(t));
    }
    first_ms += lo;
    last_ms += hi;
    if (first.size() != kPartitions) state.SkipWithError("a partition handled nothing");
    rt.stop();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["first_ms"] = first_ms / n;
  state.counters["last_ms"] = last_ms / n;
  state.SetLabel(cluster.describe());
}
BENCHMARK(BM_first_record)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

/// When each partition handled its records, for the longest gap in a window.
class handled_times {
 public:
  void add(int partition) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mx_);
    at_[partition].push_back(now);
  }
  /// The longest stretch within [from, to] in which one of `partitions`
  /// handled nothing (a stretch open at either end counts to it).
  double longest_gap_ms(const std::set<int>& partitions, std::chrono::steady_clock::time_point from,
                        std::chrono::steady_clock::time_point to) {
    std::lock_guard lock(mx_);
    double longest = 0;
    for (int p : partitions) {
      auto last = from;
      for (auto t : at_[p]) {
        if (t <= from) continue;
        if (t > to) break;
        longest = std::max(longest, std::chrono::duration<double, std::milli>(t - last).count());
        last = t;
      }
      longest = std::max(longest, std::chrono::duration<double, std::milli>(to - last).count());
    }
    return longest;
  }

 private:
  std::mutex mx_;
  std::map<int, std::vector<std::chrono::steady_clock::time_point>> at_;
};

/// A member that holds the 8 restored partitions keeps handling a steady
/// feed (2000 records/s over the input) while a second member joins and
/// restores the 4 it takes (~125k records each) from scratch. gap_ms: the
/// longest time one of the first member's kept partitions handled nothing,
/// from the second member's assignment until its restores end (restore_ms);
/// the feed alone leaves ~4 ms between a partition's records.
void BM_gap_while_restoring(benchmark::State& state) {
  bench::cluster cluster;
  if (cluster.embedded()) {
    state.SkipWithError("needs a real broker (KACTOR_BROKERS)");
    return;
  }
  const auto group = group_of(changelog(cluster));
  const auto input = group + "-gap";
  cluster.create_topic(input, kPartitions);
  double gap_ms = 0, restore_ms = 0;
  for (auto _ : state) {
    const test::temp_dir tmp("restore_bench");
    handled_times handled;
    auto member = [&](const std::string& name) {
      auto cfg = bench::config();
      cfg.brokers = cluster.brokers();
      cfg.state_dir = tmp.path + "/" + name;
      cfg.consumer["heartbeat.interval.ms"] = "500";
      auto rt = std::make_unique<runtime>(cfg);
      rt->agent("bench").consume(input).group(group).store("counts").on(
          [&](const event& e, context&) { handled.add(e.partition().value()); });
      return rt;
    };
    auto holds = [](runtime& rt, bool* restoring = nullptr) {
      std::set<int> out;
      const auto stats = rt.stats();
      for (const auto& p : stats.agents.at(0).partitions)
        if (p.assigned) {
          out.insert(p.tp.partition.value());
          if (restoring && p.restoring) *restoring = true;
        }
      return out;
    };
    detail::steady_feeder feed(cluster.brokers(), input, kPartitions, 2000,
                               [](std::int64_t i) { return std::to_string(i); });
    auto a = member("a");
    a->start();
    test::eventually(
        [&] {
          bool restoring = false;
          return holds(*a, &restoring).size() == kPartitions && !restoring;
        },
        std::chrono::seconds(120));
    const auto before = holds(*a);
    auto b = member("b");
    b->start();
    test::eventually([&] { return !holds(*b).empty(); }, std::chrono::seconds(120));
    const auto assigned = std::chrono::steady_clock::now();
    test::eventually(
        [&] {
          bool restoring = false;
          holds(*b, &restoring);
          return !restoring;
        },
        std::chrono::seconds(120));
    const auto restored = std::chrono::steady_clock::now();
    std::set<int> kept;
    for (int p : holds(*a))
      if (before.count(p)) kept.insert(p);
    if (kept.empty() || holds(*b).empty()) state.SkipWithError("the group did not split");
    gap_ms += handled.longest_gap_ms(kept, assigned, restored);
    restore_ms += std::chrono::duration<double, std::milli>(restored - assigned).count();
    b->stop();
    a->stop();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["gap_ms"] = gap_ms / n;
  state.counters["restore_ms"] = restore_ms / n;
  state.SetLabel(cluster.describe());
}
BENCHMARK(BM_gap_while_restoring)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
