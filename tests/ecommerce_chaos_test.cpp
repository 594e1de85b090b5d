// The article's e-commerce pipeline as a fleet on the real broker: one
// process per agent, each started with its config file from
// examples/ecommerce/config, as an operator would. The fraud process
// (exactly_once) is SIGKILLed mid-run and started again: every order still
// ends exactly once, and the fraud agent's verdicts, read at
// read_committed, hold no order twice.

#include <csignal>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/cli/child_process.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using kactor::detail::child_process;

struct ecommerce_chaos : ::testing::Test {
  std::string brokers = kactor::test::kafka_bootstrap();
  std::string exe = std::getenv("KACTOR_ECOMMERCE_EXE") ? std::getenv("KACTOR_ECOMMERCE_EXE") : "";
  std::string source = std::getenv("KACTOR_SOURCE_DIR") ? std::getenv("KACTOR_SOURCE_DIR") : "";
  std::string prefix = kactor::test::unique_name("shop") + ".";
  std::map<std::string, int> starts_;

  std::unique_ptr<child_process> run(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv{exe, "--brokers", brokers, "--prefix", prefix};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto log = kactor::test::binary_dir() + "/" + prefix + name + "." +
                     std::to_string(++starts_[name]) + ".log";
    return std::make_unique<child_process>(argv, log);
  }

  /// Agent `name` in a process of its own, with its config file.
  std::unique_ptr<child_process> agent(const std::string& name) {
    return run(name, {"--agents", name, "--config",
                      source + "/examples/ecommerce/config/" + name + ".yaml"});
  }

  std::size_t count(const std::string& topic) {
    return kactor::test::read_all(brokers, prefix + topic, 60s, "read_uncommitted").size();
  }
};

TEST_F(ecommerce_chaos, every_order_ends_once_through_a_sigkilled_agent_process) {
  ASSERT_FALSE(brokers.empty());
  ASSERT_FALSE(exe.empty());
  constexpr int kOrders = 3000;
  // The topics first: the agents' first assignment should hold partitions.
  ASSERT_EQ(run("topics", {"--feed", "1"})->wait(120s), 0);
  std::map<std::string, std::unique_ptr<child_process>> fleet;
  for (const char* name : {"inventory", "fraud", "payment", "fulfillment", "notification"})
    fleet[name] = agent(name);
  // Orders keep coming for ~7.5 s, so the kill lands while fraud has work
  // (an open transaction) and more comes while it is down.
  auto feeder =
      run("feed", {"--feed", std::to_string(kOrders - 1), "--first", "1", "--rate", "400"});
  ASSERT_TRUE(kactor::test::eventually([&] { return count("order.completed") >= 100; }, 120s));
  EXPECT_TRUE(feeder->running()) << "the kill should land mid-feed";
  fleet["fraud"]->signal(SIGKILL);
  EXPECT_EQ(fleet["fraud"]->wait(30s), 128 + SIGKILL);
  fleet["fraud"] = agent("fraud");
  EXPECT_EQ(feeder->wait(120s), 0);

  auto ledger = run("ledger", {"--ledger", std::to_string(kOrders), "--timeout", "240"});
  EXPECT_EQ(ledger->wait(300s), 0) << "see " << prefix << "ledger.1.log";
  const auto outcome =
      kactor::test::read_file(kactor::test::binary_dir() + "/" + prefix + "ledger.1.log");
  EXPECT_NE(outcome.find("with two outcomes 0, not ended 0"), std::string::npos) << outcome;

  // The fraud agent's outputs commit with its input offsets: a verdict
  // handled before the kill and again after it is read once.
  for (const char* topic : {"fraud.cleared", "fraud.flagged"}) {
    std::map<std::string, int> seen;
    for (const auto& r : kactor::test::read_all(brokers, prefix + topic)) ++seen[r.key];
    int twice = 0;
    for (const auto& [key, n] : seen) twice += n > 1 ? 1 : 0;
    EXPECT_EQ(twice, 0) << topic;
    EXPECT_FALSE(seen.empty()) << topic;
  }
  for (auto& [name, p] : fleet) {
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(60s), 0) << name;
  }
}

}  // namespace
