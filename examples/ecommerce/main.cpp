// The article's e-commerce pipeline (examples/ecommerce/pipeline.hpp):
// five agents, each its own consumer group, choreographed by topics.
//
//   ecommerce [--orders N]                      # everything in one process on the embedded cluster
//   ecommerce --brokers B [--orders N]          # the same against a real Kafka (fraud
//   exactly_once)
// A fleet, one process per agent (or any grouping), on a real Kafka:
//   ecommerce --brokers B --feed N [--rate R]   # create the topics, produce N orders, exit
//   ecommerce --brokers B --agents payment --config examples/ecommerce/config/payment.yaml
//   ecommerce --brokers B --ledger N            # wait until N orders ended; print the outcomes
// An agent process runs until SIGTERM/SIGINT (then stops gracefully). The
// one-process run and --ledger exit 0 once every order ended exactly once
// (completed, failed or dead-lettered), 1 otherwise.

#include <algorithm>
#include <iostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "ecommerce/pipeline.hpp"

namespace {

std::set<std::string> split(const std::string& list) {
  std::set<std::string> out;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');)
    if (!name.empty()) out.insert(name);
  return out;
}

/// Produces orders `from` .. `from + orders - 1`, `rate` per second (0: at once).
void feed(kactor::runtime& rt, const ecommerce::topics& t, int from, int orders, int rate) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < orders; ++i) {
    // Paces the load, like a shop's traffic: not a wait for anything.
    if (rate > 0)
      std::this_thread::sleep_until(start + std::chrono::microseconds(1000000LL * i / rate));
    const auto o = ecommerce::make_order(from + i);
    rt.emit(t.received, o.id, ecommerce::encode(o));
  }
  if (!rt.flush(std::chrono::seconds(60)))
    throw std::runtime_error("the orders were not acknowledged within 60 s");
}

/// Waits until the ledger saw `orders` orders (or `timeout`), prints the
/// outcomes; true if every order ended exactly once.
bool await_outcomes(kactor::runtime& rt, const ecommerce::ledger& ledger, std::size_t orders,
                    std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ledger.orders() < orders && std::chrono::steady_clock::now() < deadline &&
         !rt.wait_for_stop_request(std::chrono::milliseconds(50))) {
  }
  using ecommerce::outcome;
  std::cout << "orders " << orders << ": completed " << ledger.count(outcome::completed)
            << ", failed " << ledger.count(outcome::failed) << ", dead-lettered "
            << ledger.count(outcome::dead_lettered) << ", with two outcomes "
            << ledger.conflicting() << ", not ended " << orders - std::min(orders, ledger.orders())
            << std::endl;
  return ledger.orders() == orders && ledger.conflicting() == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor example: the article's e-commerce pipeline"};
  examples::options opts;
  opts.add_to(app);
  std::string prefix, agents;
  int orders = 500, feed_orders = 0, ledger_orders = 0, first = 0, partitions = 4, timeout_s = 120,
      rate = 0;
  app.add_option("--orders", orders, "orders fed through the one-process pipeline");
  app.add_option("--agents", agents,
                 "run only these agents (comma-separated: inventory,fraud,payment,fulfillment,"
                 "notification) until SIGTERM");
  app.add_option("--feed", feed_orders, "create the topics, produce this many orders and exit");
  app.add_option("--first", first, "number of the first order fed");
  app.add_option("--rate", rate, "orders per second fed (0: as fast as possible)");
  app.add_option("--ledger", ledger_orders,
                 "wait until this many orders ended, print their outcomes and exit");
  app.add_option("--partitions", partitions, "partitions of each topic created");
  app.add_option("--timeout", timeout_s, "seconds to wait for every order to end");
  app.add_option("--prefix", prefix, "prefix of every topic and group name (tests)");
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    const auto cfg = opts.config();
    kactor::runtime rt(cfg);
    const ecommerce::topics t(prefix);
    ecommerce::settings s;
    s.prefix = prefix;
    s.configured = cfg.agents;
    // The embedded cluster writes no transaction markers: exactly_once
    // would prove nothing there.
    s.exactly_once_fraud = !rt.embedded();
    if (rt.embedded())
      std::cout << "embedded cluster: the fraud agent runs at_least_once (no transactions there)"
                << std::endl;
    const auto create_topics = [&] {
      for (const auto& topic : t.all()) rt.create_topic(topic, partitions);
    };

    if (feed_orders > 0) {
      create_topics();
      feed(rt, t, first, feed_orders, rate);
      std::cout << "fed " << feed_orders << " orders to " << t.received << std::endl;
      return 0;
    }
    if (ledger_orders > 0) {
      ecommerce::ledger ledger(rt, prefix);
      rt.stop_on_signals();
      rt.start();
      const bool ok = await_outcomes(rt, ledger, static_cast<std::size_t>(ledger_orders),
                                     std::chrono::seconds(timeout_s));
      rt.stop();
      return ok ? 0 : 1;
    }
    if (!agents.empty()) {
      s.agents = split(agents);
      for (const auto& name : s.agents)
        if (std::find(ecommerce::agent_names().begin(), ecommerce::agent_names().end(), name) ==
            ecommerce::agent_names().end())
          throw kactor::config_error("--agents", "unknown agent '" + name +
                                                     "'; allowed: inventory, fraud, payment, "
                                                     "fulfillment, notification");
      ecommerce::define(rt, s);
      return rt.run_until_signal();
    }

    create_topics();
    ecommerce::define(rt, s);
    ecommerce::ledger ledger(rt, prefix);
    rt.stop_on_signals();
    rt.start();
    feed(rt, t, first, orders, rate);
    const bool ok = await_outcomes(rt, ledger, static_cast<std::size_t>(orders),
                                   std::chrono::seconds(timeout_s));
    rt.stop();
    return ok ? 0 : 1;
  });
}
