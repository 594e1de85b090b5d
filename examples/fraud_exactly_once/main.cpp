// The article's pattern 3: exactly-once fraud decisions. Transactions come in
// as "<id>:<amount>"; a risk score is computed by a local function standing
// in for an external API (it counts its calls); a decision goes out. Outputs
// and input offsets commit in one Kafka transaction, so a consumer reading
// fraud.decisions with isolation.level=read_committed sees one decision per
// transaction even if this process is killed at any instant. The risk call
// itself may run again after a crash: see README.md.
//
//   fraud_exactly_once --brokers 127.0.0.1:9092 [--prefix P] [--stats F]

#include <atomic>
#include <iostream>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

namespace {

std::atomic<long> risk_calls{0};

/// The "external" risk API: deterministic, and counted.
double risk_score(long amount) {
  ++risk_calls;
  return amount > 9000 ? 0.95 : amount > 5000 ? 0.6 : 0.1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor example: exactly-once fraud decisions (needs a real broker)"};
  examples::options opts;
  opts.add_to(app);
  std::string prefix;
  app.add_option("--prefix", prefix, "prefix of the topic and group names (tests)");
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    const std::string decisions = prefix + "fraud.decisions";
    rt.agent("fraud-detector")
        .consume(prefix + "transactions.pending")
        .group(prefix + "fraud-detector")
        .exactly_once()
        .on([&](const kactor::event& e, kactor::context& ctx) {
          const std::string tx(e.value());
          const auto colon = tx.find(':');
          if (colon == std::string::npos)
            throw kactor::irrecoverable_error("malformed transaction '" + tx + "'");
          const auto score = risk_score(std::stol(tx.substr(colon + 1)));
          ctx.emit(decisions, tx.substr(0, colon),
                   tx.substr(0, colon) + (score > 0.8 ? ":block" : ":allow"));
        });
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    const int status = rt.run_until_signal();
    std::cout << "risk API calls: " << risk_calls.load() << "\n";
    return status;
  });
}
