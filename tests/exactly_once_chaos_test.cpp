// exactly_once under faults, on the real broker, with runtime processes
// (tests/exactly_once_worker.cpp) copying an input of per-key sequences:
// repeated SIGKILLs inside open transactions, a zombie (SIGSTOP past the session and transaction
// timeouts, then SIGCONT), a broker restart, and three members restarted at
// random with SIGTERM (most stops landing in a rebalance). Each time the output
// read at read_committed must equal the oracle: per key, in order, no gaps, no
// duplicates.

#include <kactor/kactor.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "src/kafka/admin.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;

constexpr int kPartitions = 6, kKeys = 300;

struct chaos : ::testing::Test {
  std::string brokers = test::kafka_bootstrap();
  std::string dir = test::binary_dir();
  std::string in = test::unique_name("chaos-in"), out = in + ".out", group = in + "-g";

  void SetUp() override {
    ASSERT_FALSE(brokers.empty());
    test::create_topic(brokers, in, kPartitions);
    test::create_topic(brokers, out, kPartitions);
  }

  std::map<std::string, int> starts_;
  /// Every worker log of the test, one per start.
  std::vector<std::string> logs_;
  /// Consumer settings every worker gets: short sessions, so a killed
  /// member's partitions move on soon.
  std::vector<std::string> client_settings{"--set", "consumer.session.timeout.ms=6000", "--set",
                                           "consumer.heartbeat.interval.ms=500"};

  /// A worker process; its stats go to "<in>.<name>.json", its log next to
  /// it ("<in>.<name>.<start>.log"); `env` ("NAME=value") is added to its
  /// environment.
  std::unique_ptr<test::child_process> worker(const std::string& name,
                                              std::vector<std::string> extra = {},
                                              std::vector<std::string> env = {}) {
    std::vector<std::string> argv{std::getenv("KACTOR_EOS_WORKER_EXE"),
                                  "--brokers",
                                  brokers,
                                  "--in",
                                  in,
                                  "--out",
                                  out,
                                  "--group",
                                  group,
                                  "--stats",
                                  stats_path(name)};
    argv.insert(argv.end(), client_settings.begin(), client_settings.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    // One log per start: a restarted worker's log does not replace its predecessor's.
    logs_.push_back(dir + "/" + in + "." + name + "." + std::to_string(++starts_[name]) + ".log");
    return std::make_unique<test::child_process>(argv, logs_.back(), env);
  }

  /// Whether the latest start of worker `name` has joined its group.
  bool joined(const std::string& name) const {
    const auto log = dir + "/" + in + "." + name + "." + std::to_string(starts_.at(name)) + ".log";
    return test::read_file(log).find("joined group") != std::string::npos;
  }

  std::string stats_path(const std::string& name) const {
    return dir + "/" + in + "." + name + ".json";
  }

  /// The worker's agent stats as last written, or null.
  nlohmann::json agent(const std::string& name) const {
    auto j = nlohmann::json::parse(test::read_file(stats_path(name)), nullptr, false);
    if (j.is_discarded() || !j.contains("agents") || j["agents"].empty()) return nullptr;
    return j["agents"][0];
  }

  /// The partitions the worker holds, as its stats last said.
  std::set<int> held(const std::string& name) const {
    std::set<int> out;
    if (auto a = agent(name); !a.is_null())
      for (auto& p : a["partitions"])
        if (p["assigned"].get<bool>()) out.insert(p["partition"].get<int>());
    return out;
  }

  int assigned(const std::string& name) const { return static_cast<int>(held(name).size()); }

  bool group_done() const { return test::group_caught_up(brokers, group, in, kPartitions); }

  /// Whether the group has committed every partition the worker holds to its end.
  bool member_caught_up(const std::string& name) const {
    return test::group_caught_up(brokers, group, in, held(name));
  }

  /// Whether a transaction with records in it is open in the output: some
  /// partition's last stable offset (what read_committed readers may read up
  /// to) is behind its high watermark.
  bool output_has_open_transaction() const { return !test::transactions_settled(brokers, out); }

  /// Writes one record to every output partition (outside any transaction)
  /// and reads the output at read_committed: it reads to the end only if no
  /// transaction of a killed or fenced producer is left open before them.
  std::vector<test::record> read_output_through_end_markers() {
    auto rk = detail::make_client(RD_KAFKA_PRODUCER,
                                  detail::make_conf({{"", "bootstrap.servers", brokers}}));
    for (int p = 0; p < kPartitions; ++p) {
      const std::string value = "end-marker-" + std::to_string(p);
      EXPECT_EQ(rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(out.c_str()), RD_KAFKA_V_PARTITION(p),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    EXPECT_EQ(rd_kafka_flush(rk.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    auto all = test::read_all(brokers, out, std::chrono::seconds(90));
    std::vector<test::record> outputs;
    std::set<int> markers;
    for (auto& r : all) {
      if (r.value.rfind("end-marker-", 0) == 0) {
        EXPECT_EQ(r.value, "end-marker-" + std::to_string(r.partition));
        markers.insert(r.partition);
      } else {
        outputs.push_back(std::move(r));
      }
    }
    EXPECT_EQ(markers.size(), static_cast<std::size_t>(kPartitions))
        << "an end marker visible at read_committed on every output partition";
    return outputs;
  }
};

/// Produces `input` in chunks of `chunk`, one chunk per `pace`, on a thread
/// (load spread over the run; its timing synchronises nothing).
class paced_input {
 public:
  paced_input(std::string brokers, std::string topic,
              std::vector<std::pair<std::string, std::string>> input, std::size_t chunk,
              std::chrono::milliseconds pace)
      : thread_([=, input = std::move(input)] {
          for (std::size_t at = 0; at < input.size(); at += chunk) {
            const auto end = std::min(input.size(), at + chunk);
            test::produce_all(brokers, topic, {input.begin() + at, input.begin() + end});
            std::this_thread::sleep_for(pace);
          }
        }) {}
  /// Waits until all of the input is produced.
  ~paced_input() { thread_.join(); }

 private:
  std::thread thread_;
};

TEST_F(chaos, ten_sigkills_inside_open_transactions_leave_every_output_exactly_once) {
  const auto input = test::sequenced(100000, kKeys);
  constexpr int kKills = 10;
  int kills_in_open_transactions = 0;
  // Static members: a restarted process's transactional id is its
  // predecessor's, so it fences and aborts the killed one's open transaction.
  std::unique_ptr<test::child_process> workers[2];
  // Transactions of a second: while the input flows, a worker almost always
  // has one open with records in it, where the kills are meant to land.
  auto start = [&](int i) {
    workers[i] = worker("w" + std::to_string(i), {"--instance", "w" + std::to_string(i),
                                                  "--transaction-interval-ms", "1000"});
  };
  start(0);
  start(1);
  std::mt19937 rng(std::random_device{}());
  {
    paced_input feed(brokers, in, input, 1250, std::chrono::milliseconds(500));
    // Kill at random instants while the input flows, each one inside an open
    // transaction with records if one comes: the victim is frozen (SIGSTOP)
    // and its transaction looked up on the coordinator; if none is open, it
    // runs on and is frozen again a little later. The sleeps draw the
    // instants; leaving the scope waits for the whole input.
    for (int kill = 0; kill < kKills; ++kill) {
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 1500)(rng)));
      const int victim = std::uniform_int_distribution<int>(0, 1)(rng);
      const auto id = "kactor-" + group + "-w" + std::to_string(victim);
      bool open = false;
      for (int look = 0; look < 8 && !open; ++look) {
        workers[victim]->signal(SIGSTOP);
        ASSERT_TRUE(test::eventually([&] { return workers[victim]->stopped(); }));
        open = test::describe_transaction(id).open_with_records();
        if (open) break;
        workers[victim]->signal(SIGCONT);
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 300)(rng)));
      }
      kills_in_open_transactions += open;
      workers[victim]->signal(SIGKILL);
      ASSERT_EQ(workers[victim]->wait(std::chrono::seconds(10)), 128 + SIGKILL);
      start(victim);
    }
  }
  std::printf("kills inside an open transaction with records: %d of %d\n",
              kills_in_open_transactions, kKills);
  // The kills must abort written records, or the test proves little.
  EXPECT_GE(kills_in_open_transactions, kKills - 2)
      << "kills that landed inside an open transaction with records";
  ASSERT_TRUE(test::eventually([&] { return group_done(); }, std::chrono::seconds(180)))
      << "the group's committed offsets never reached the input's end";
  // A worker SIGTERMed before its runtime handles signals dies of it (143):
  // the last one restarted may still be starting.
  ASSERT_TRUE(test::eventually([&] { return joined("w0") && joined("w1"); }));
  for (auto& w : workers) w->signal(SIGTERM);
  for (auto& w : workers) EXPECT_EQ(w->wait(std::chrono::seconds(60)), 0);
  test::expect_matches_oracle(input, read_output_through_end_markers());
}

// A cooperative rebalance takes partitions from a member in two steps: it
// revokes them, then rejoins so that the next assignment gives them to
// another. A static member that dies between the two and comes back within
// its session is given, without a rebalance, what the coordinator stored for
// it: its share without the revoked partitions, which then belong to no one.
TEST_F(chaos, a_static_member_killed_inside_a_cooperative_rebalance_strands_no_partition) {
  // A long session: the restart always lands in it, so no expiry rebalances.
  client_settings = {"--set", "consumer.session.timeout.ms=30000", "--set",
                     "consumer.heartbeat.interval.ms=500"};
  const auto input = test::sequenced(12000, kKeys);
  auto w0 = worker("w0", {"--instance", "w0"}, {"KACTOR_FAILPOINTS=revoke_in_rebalance"});
  ASSERT_TRUE(test::eventually([&] { return assigned("w0") == kPartitions; }));
  // w1's join makes w0 revoke half of its partitions; it dies revoking them.
  auto w1 = worker("w1", {"--instance", "w1"});
  ASSERT_EQ(w0->wait(std::chrono::seconds(60)), 137) << "w0 died inside the revocation";
  w0 = worker("w0", {"--instance", "w0"});
  ASSERT_TRUE(test::eventually([&] { return joined("w0"); }));
  // Only partitions someone holds get through.
  test::produce_all(brokers, in, input);
  ASSERT_TRUE(test::eventually([&] { return group_done(); }, std::chrono::seconds(60)))
      << "partitions held by w0: " << assigned("w0") << ", by w1: " << assigned("w1");
  std::set<int> all = held("w0");
  for (int p : held("w1")) EXPECT_TRUE(all.insert(p).second) << "partition " << p << " twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kPartitions));
  w0->signal(SIGTERM);
  w1->signal(SIGTERM);
  EXPECT_EQ(w0->wait(std::chrono::seconds(60)), 0);
  EXPECT_EQ(w1->wait(std::chrono::seconds(60)), 0);
  test::expect_matches_oracle(input, read_output_through_end_markers());
}

TEST_F(chaos, a_zombie_resumed_after_its_transaction_timed_out_is_fenced_and_writes_nothing) {
  const auto input = test::sequenced(36000, kKeys);
  const std::vector<std::pair<std::string, std::string>> before(input.begin(),
                                                                input.begin() + 30000),
      after(input.begin() + 30000, input.end());
  const auto stall_value = input[20000].second;
  const auto flag = dir + "/" + in + ".stalled";
  std::remove(flag.c_str());
  std::remove((flag + ".release").c_str());
  // Transactions of a second: the stall record almost always comes while a
  // transaction is open, not during a commit (when its output would be kept in
  // the actor, and the blocked actor never takes the release), so the zombie's
  // open transaction has records in the log.
  std::vector<std::string> stall{
      "--stall-at", stall_value, "--stall-flag", flag, "--transaction-interval-ms", "1000"};
  stall.insert(stall.end(), {"--set", "consumer.max.poll.interval.ms=7000"});
  auto a = worker("a", stall), b = worker("b", stall);
  // Both members hold partitions before the input comes, so either may be the zombie.
  ASSERT_TRUE(test::eventually(
      [&] { return assigned("a") > 0 && assigned("b") > 0 && assigned("a") + assigned("b") == 6; },
      std::chrono::seconds(60)));
  test::produce_all(brokers, in, before);
  // The process that handles the stall record holds it, its transaction open;
  // once the record is in the log, it is stopped there.
  std::string pid;
  ASSERT_TRUE(test::eventually([&] {
    pid = test::read_file(flag);
    return !pid.empty() && pid.back() == '\n';
  }));
  const bool a_stalls = std::stoi(pid) == a->pid();
  auto& zombie = a_stalls ? a : b;
  const std::string zombie_name = a_stalls ? "a" : "b", live_name = a_stalls ? "b" : "a";
  // The zombie's other partition actors write into its open transaction (the
  // stall record's own output may still be kept in its actor, if it came
  // during a commit). Once the live member has finished its partitions it
  // commits no more (no empty transactions): an open transaction on the
  // output is then the zombie's.
  ASSERT_TRUE(test::eventually([&] {
    return member_caught_up(live_name) && output_has_open_transaction();
  })) << "the zombie never had records in its open transaction";
  zombie->signal(SIGSTOP);
  ASSERT_TRUE(test::eventually([&] { return zombie->stopped(); }));
  std::ofstream(flag + ".release").close();  // its handler returns once it is resumed
  // The other member takes over once the zombie's session (and poll interval)
  // times out: the zombie's transaction holds no offsets yet (they join it at
  // commit), so it goes on from the last committed ones.
  ASSERT_TRUE(test::eventually([&] { return group_done(); }, std::chrono::seconds(120)))
      << "the live member never finished the zombie's partitions";
  // Keep the zombie stopped until the broker has aborted its open transaction
  // (transaction.timeout.ms, 10 s): until then read_committed readers of the
  // output cannot read to its end.
  ASSERT_TRUE(
      test::eventually([&] { return !output_has_open_transaction(); }, std::chrono::seconds(60)));
  ASSERT_TRUE(zombie->stopped());
  zombie->signal(SIGCONT);
  // Its transaction was aborted by the broker and its epoch bumped: the zombie
  // cannot commit it. Its offsets commit is refused (it left the group), it
  // aborts — librdkafka bumps the epoch (KIP-360) or, if fenced fatally, kactor
  // re-creates the producer — and it rejoins.
  ASSERT_TRUE(test::eventually(
      [&] {
        auto s = agent(zombie_name);
        return !s.is_null() && s["transactions_aborted"].get<int>() >= 1 &&
               s["healthy"].get<bool>();
      },
      std::chrono::seconds(60)))
      << agent(zombie_name).dump();
  // Both members work on: more input, spread over all partitions.
  ASSERT_TRUE(test::eventually([&] { return assigned("a") == 3 && assigned("b") == 3; },
                               std::chrono::seconds(60)));
  const auto zombie_commits = agent(zombie_name)["transactions_committed"].get<int>();
  test::produce_all(brokers, in, after);
  ASSERT_TRUE(test::eventually(
      [&] {
        return group_done() &&
               agent(zombie_name)["transactions_committed"].get<int>() > zombie_commits;
      },
      std::chrono::seconds(60)))
      << "the resumed zombie committed nothing new";
  a->signal(SIGTERM);
  b->signal(SIGTERM);
  EXPECT_EQ(a->wait(std::chrono::seconds(60)), 0);
  EXPECT_EQ(b->wait(std::chrono::seconds(60)), 0);
  test::expect_matches_oracle(input, read_output_through_end_markers());
}

TEST_F(chaos, a_broker_restart_in_the_middle_of_the_run_loses_and_duplicates_nothing) {
  const auto input = test::sequenced(40000, kKeys);
  auto w = worker("w");
  {
    paced_input feed(brokers, in, input, 2000, std::chrono::milliseconds(250));
    ASSERT_TRUE(test::eventually([&] {
      auto s = agent("w");
      return !s.is_null() && s["transactions_committed"].get<int>() >= 3;
    }));
    const std::string restart = std::string(std::getenv("KACTOR_KAFKA_SCRIPT")) + " restart " +
                                std::getenv("KACTOR_KAFKA_DIR") + " > " + dir + "/" + in +
                                ".restart.log 2>&1";
    ASSERT_EQ(std::system(restart.c_str()), 0) << restart;
  }
  ASSERT_TRUE(test::eventually([&] { return group_done(); }, std::chrono::seconds(180)));
  w->signal(SIGTERM);
  EXPECT_EQ(w->wait(std::chrono::seconds(60)), 0);
  test::expect_matches_oracle(input, read_output_through_end_markers());
}

// An operator's rolling restarts: three members of one group (librdkafka's
// default session and heartbeat) restarted one at a time at random instants
// with SIGTERM while the input flows, with a SIGKILL among them (the group then
// waits out the dead member's 45 s session before a rebalance completes).
// Most stops land in a rebalance; each must end within the documented bound
// (docs/design.md, "Revocation and shutdown": the revocation plus
// heartbeat.interval.ms + 0.5 s, 3.5 s here) and exit 0, no worker may log
// at error, and the output stays exactly once.
TEST_F(chaos, rolling_sigterms_during_rebalances_stop_promptly_and_quietly_exactly_once) {
  client_settings.clear();
  const auto input = test::sequenced(60000, kKeys);
  constexpr int kMembers = 3, kStops = 14;
  std::unique_ptr<test::child_process> workers[kMembers];
  auto start = [&](int i) { workers[i] = worker("m" + std::to_string(i)); };
  for (int i = 0; i < kMembers; ++i) start(i);
  auto admin = detail::make_client(RD_KAFKA_PRODUCER,
                                   detail::make_conf({{"", "bootstrap.servers", brokers}}));
  std::vector<std::pair<double, std::string>> stops;  // seconds, group state at the signal
  std::mt19937 rng(std::random_device{}());
  {
    paced_input feed(brokers, in, input, 500, std::chrono::milliseconds(200));
    for (int stop = 0; stop < kStops; ++stop) {
      // The sleeps draw the instants; the restarts keep the group rebalancing.
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 1500)(rng)));
      const int victim = std::uniform_int_distribution<int>(0, kMembers - 1)(rng);
      if (stop % 6 == 0) {
        // A crash: the group waits out its session before the next
        // rebalance can complete, so the SIGTERMs that follow land in it.
        workers[victim]->signal(SIGKILL);
        ASSERT_EQ(workers[victim]->wait(std::chrono::seconds(10)), 128 + SIGKILL);
        start(victim);
        continue;
      }
      const auto state = detail::describe_group(admin.get(), group, 5000).state;
      const auto from = std::chrono::steady_clock::now();
      workers[victim]->signal(SIGTERM);
      ASSERT_EQ(workers[victim]->wait(std::chrono::seconds(60)), 0);
      stops.emplace_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count(), state);
      start(victim);
    }
  }
  int in_rebalance = 0;
  for (const auto& [seconds, state] : stops) {
    std::printf("stop in group state %-20s took %.2f s\n", state.c_str(), seconds);
    in_rebalance += state == "PreparingRebalance" || state == "CompletingRebalance";
    // The revocation takes well under a second here; librdkafka alone took
    // 5 s (its LeaveGroup timeout) plus the revocation in such a rebalance.
    EXPECT_LT(seconds, 4.8) << "a graceful stop in group state " << state;
  }
  // Unless most stops land in a rebalance, the test proves little.
  EXPECT_GE(in_rebalance, static_cast<int>(stops.size()) / 2)
      << "stops that landed during a rebalance";
  ASSERT_TRUE(test::eventually([&] { return group_done(); }, std::chrono::seconds(180)))
      << "the group's committed offsets never reached the input's end";
  for (auto& w : workers) w->signal(SIGTERM);
  for (auto& w : workers) EXPECT_EQ(w->wait(std::chrono::seconds(60)), 0);
  test::expect_matches_oracle(input, read_output_through_end_markers());
  for (const auto& log : logs_) {
    std::istringstream lines(test::read_file(log));
    for (std::string line; std::getline(lines, line);)
      EXPECT_EQ(line.find(" error kactor:"), std::string::npos) << log << ": " << line;
  }
}

}  // namespace
