// The article's pattern 4: retries, then a dead-letter topic. Orders are
// "<id>:<amount>:<card>". The payment step declines some cards (irrecoverable:
// to the DLQ at once, with the failure's context in headers) and fails
// transiently on others (retried with backoff, then it succeeds). A second
// agent consumes the DLQ. After the "fix" (--accept-declined), an operator
// re-drives the DLQ:  kactor dlq redrive --brokers B --dlq orders.failed
//
//   orders_dlq --brokers 127.0.0.1:9092 [--accept-declined] [--stats F]
//   orders_dlq                    # self-contained run on the embedded cluster

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>

#include <CLI/CLI.hpp>
#include <kactor/dead_letter.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

namespace {

struct order {
  std::string id;
  long amount = 0;
  std::string card;
};

order parse(std::string_view v) {
  auto a = v.find(':'), b = v.rfind(':');
  if (a == std::string_view::npos || a == b)
    throw kactor::irrecoverable_error("malformed order '" + std::string(v) + "'");
  return {std::string(v.substr(0, a)), std::stol(std::string(v.substr(a + 1, b - a - 1))),
          std::string(v.substr(b + 1))};
}

/// A payment service that times out on the first two calls for a "flaky" card.
class payment_service {
 public:
  void charge(const order& o, bool accept_declined) {
    if (o.card == "declined" && !accept_declined)
      throw kactor::irrecoverable_error("payment declined for order " + o.id);
    if (o.card == "flaky") {
      std::lock_guard lock(mx_);
      if (calls_[o.id]++ < 2) throw std::runtime_error("payment service timeout");
    }
  }

 private:
  std::mutex mx_;
  std::map<std::string, int> calls_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor example: retries and a dead-letter topic"};
  examples::options opts;
  opts.add_to(app);
  std::string prefix;
  bool accept_declined = false;
  int orders = 200;
  app.add_flag("--accept-declined", accept_declined, "the fixed payment step");
  app.add_option("--orders", orders, "orders fed in the self-contained demo");
  app.add_option("--prefix", prefix, "prefix of every topic and group name (tests)");
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    const bool demo = rt.embedded();
    const std::string pending = prefix + "orders.pending",
                      completed_topic = prefix + "orders.completed",
                      failed_topic = prefix + "orders.failed";
    if (demo) {
      rt.create_topic(pending, 4);
      rt.create_topic(completed_topic, 4);
      rt.create_topic(failed_topic, 1);
    }
    payment_service payments;
    kactor::supervision_policy policy;
    policy.max_retries = 3;
    policy.backoff_base = std::chrono::milliseconds(50);
    policy.dlq_topic = failed_topic;
    rt.agent("payments")
        .consume(pending)
        .group(prefix + "payments")
        .supervision(policy)
        .on([&](const kactor::event& e, kactor::context& ctx) {
          auto o = parse(e.value());
          payments.charge(o, accept_declined);
          ctx.emit(completed_topic, e.key(), e.value());
        });
    // The DLQ is a topic like any other: an agent watches it.
    std::atomic<long> failures_seen{0};
    rt.agent("dlq-monitor")
        .consume(failed_topic)
        .group(prefix + "dlq-monitor")
        .on([&](const kactor::event& e, kactor::context&) {
          ++failures_seen;
          std::cout << "dead letter: " << e.value() << " ("
                    << e.header(kactor::dlq_header::error_message).value_or("?") << ", "
                    << e.header(kactor::dlq_header::attempts).value_or("?") << " attempt(s))"
                    << std::endl;
        });
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    if (!demo) {
      return rt.run_until_signal();
    }
    rt.start();
    long expect_failed = 0;
    for (int i = 0; i < orders; ++i) {
      const char* card = i % 10 == 3 ? "declined" : i % 10 == 7 ? "flaky" : "visa";
      expect_failed += i % 10 == 3;
      rt.emit(pending, "customer-" + std::to_string(i % 13),
              "order-" + std::to_string(i) + ":" + std::to_string(10 + i) + ":" + card);
    }
    rt.flush(std::chrono::seconds(10));
    auto count = [&](const std::string& agent, auto field) {
      return examples::sum(rt, agent, field);
    };
    auto done = [&] {
      return count("payments", [](auto& p) { return p.processed + p.dead_lettered; }) >=
                 static_cast<std::uint64_t>(orders) &&
             failures_seen.load() >= expect_failed;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      rt.wait_for_stop_request(std::chrono::milliseconds(20));
    rt.stop();
    const auto completed = count("payments", [](auto& p) { return p.processed; });
    const auto retries = count("payments", [](auto& p) { return p.retries; });
    const auto dead = count("payments", [](auto& p) { return p.dead_lettered; });
    std::cout << "orders " << orders << ": completed " << completed << ", dead-lettered " << dead
              << ", retries " << retries << ", dead letters seen by the monitor "
              << failures_seen.load() << "\n";
    return completed + dead == static_cast<std::uint64_t>(orders) &&
                   dead == static_cast<std::uint64_t>(expect_failed)
               ? 0
               : 1;
  });
}
