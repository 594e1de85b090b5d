// The kactor command line: `demo` runs a two-agent pipeline on the embedded
// cluster; `lag` reports a consumer group's lag on any cluster; `dlq show` and
// `dlq redrive` inspect and re-drive a dead-letter topic.

#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <kactor/kactor.hpp>
#include <nlohmann/json.hpp>

#include "src/cli/dlq_tool.hpp"
#include "src/kafka/admin.hpp"

namespace {

int run_demo(int records, const std::string& brokers) {
  kactor::runtime_config cfg;
  cfg.brokers = brokers;
  cfg.commit_interval = std::chrono::milliseconds(200);
  kactor::runtime rt(cfg);
  rt.create_topic("orders", 4);
  rt.create_topic("orders.checked", 4);

  // Agent 1, as a CAF behaviour: flags large orders, keeps a per-partition count.
  rt.agent("checker").consume("orders").max_poll_records(100).behavior([](kactor::context& ctx) {
    auto seen = std::make_shared<long>(0);
    return caf::behavior{[&ctx, seen](const kactor::event& e) {
      ++*seen;
      auto amount = std::stol(std::string(e.value().substr(e.value().find(':') + 1)));
      ctx.emit("orders.checked", e.key(), amount > 900 ? "flagged" : "ok",
               {{"checked-by", ctx.agent()}, {"seen-on-partition", std::to_string(*seen)}});
    }};
  });

  // Agent 2, as a plain handler: tallies verdicts.
  std::mutex mx;
  std::map<std::string, long> verdicts;
  rt.agent("tally").consume("orders.checked").on([&](const kactor::event& e, kactor::context&) {
    std::lock_guard lock(mx);
    ++verdicts[std::string(e.value())];
  });

  rt.start();
  for (int i = 0; i < records; ++i)
    rt.emit("orders", "customer-" + std::to_string(i % 37),
            "order-" + std::to_string(i) + ":" + std::to_string((i * 7919) % 1000));
  rt.flush(std::chrono::seconds(10));

  auto tally_done = [&] {
    std::lock_guard lock(mx);
    long n = 0;
    for (auto& [k, v] : verdicts) n += v;
    return n >= records;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!tally_done() && std::chrono::steady_clock::now() < deadline)
    rt.wait_for_stop_request(std::chrono::milliseconds(50));
  const bool complete = tally_done();
  auto stats = rt.stats();
  rt.stop();

  std::printf("kactor demo on %s (%s)\n", rt.embedded() ? "the embedded cluster" : "brokers",
              rt.bootstrap_servers().c_str());
  for (const auto& a : stats.agents) {
    std::uint64_t total = 0;
    for (const auto& p : a.partitions) total += p.processed;
    std::printf("agent %-8s processed %llu records:\n", a.name.c_str(),
                static_cast<unsigned long long>(total));
    for (const auto& p : a.partitions)
      std::printf("  %s[%d]: %llu records, max in flight %zu, paused %llu times\n",
                  p.tp.topic.c_str(), p.tp.partition.value(),
                  static_cast<unsigned long long>(p.processed), p.max_in_flight,
                  static_cast<unsigned long long>(p.pauses));
  }
  std::printf("tally:");
  for (const auto& [k, v] : verdicts) std::printf(" %s=%ld", k.c_str(), v);
  std::printf("\n%s\n", complete ? "demo complete: every order was checked and tallied"
                                 : "demo INCOMPLETE: not every order reached the tally");
  return complete ? 0 : 1;
}

int run_lag(const std::string& brokers, const std::string& group, bool json, int timeout_ms) {
  auto lag = kactor::detail::query_group_lag(brokers, group, std::chrono::milliseconds(timeout_ms));
  if (json) {
    nlohmann::json out{{"group", lag.group}, {"total_lag", lag.total}};
    auto& parts = out["partitions"] = nlohmann::json::array();
    for (const auto& p : lag.partitions)
      parts.push_back({{"topic", p.topic},
                       {"partition", p.partition},
                       {"committed", p.committed},
                       {"end", p.end},
                       {"lag", p.lag}});
    std::cout << out.dump() << "\n";
  } else {
    std::printf("%-30s %9s %12s %12s %10s\n", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG");
    for (const auto& p : lag.partitions)
      std::printf("%-30s %9d %12lld %12lld %10lld\n", p.topic.c_str(), p.partition,
                  static_cast<long long>(p.committed), static_cast<long long>(p.end),
                  static_cast<long long>(p.lag));
    std::printf("total lag: %lld\n", static_cast<long long>(lag.total));
  }
  return 0;
}

int run_dlq_show(const std::string& brokers, const std::string& topic, std::size_t limit, bool json,
                 int timeout_ms) {
  const auto n =
      kactor::detail::read_dlq(brokers, topic, limit, std::chrono::milliseconds(timeout_ms),
                               [json](const kactor::detail::dlq_record& r) {
                                 std::cout << (json ? kactor::detail::format_dlq_json(r)
                                                    : kactor::detail::format_dlq_line(r))
                                           << "\n";
                               });
  std::cout.flush();
  if (!json) std::fprintf(stderr, "%zu record(s) from %s\n", n, topic.c_str());
  return 0;
}

int run_dlq_redrive(kactor::detail::redrive_options opts, const std::vector<std::string>& where) {
  for (const auto& w : where) {
    const auto eq = w.find('=');
    opts.where.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  using outcome = kactor::detail::redrive_step::outcome;
  auto summary = kactor::detail::redrive_dlq(opts, [&](const kactor::detail::redrive_step& s) {
    const auto from = opts.dlq + "/" + std::to_string(s.partition) + "@" + std::to_string(s.offset);
    if (s.what == outcome::no_target)
      std::fprintf(stderr,
                   "kactor: warning: %s has no kactor.dlq.source.topic header and no --to was "
                   "given: skipped\n",
                   from.c_str());
    else if (s.what == outcome::value_omitted)
      std::fprintf(stderr,
                   "kactor: refused: %s carries no value (too large for the dead-letter topic); "
                   "read the original from %s while the source topic retains it and emit it "
                   "again: skipped\n",
                   from.c_str(), s.source.c_str());
    else if (s.what == outcome::redriven && opts.dry_run)
      std::printf("would re-drive %s -> %s\n", from.c_str(), s.target.c_str());
  });
  const char* verb = opts.dry_run ? "would be " : "";
  std::int64_t redriven = 0;
  for (const auto& [t, n] : summary.redriven) redriven += n;
  std::printf("%s%s, group %s\n", opts.dry_run ? "DRY RUN (nothing produced or committed): " : "",
              opts.dlq.c_str(), summary.group.c_str());
  std::printf("examined:    %lld\n", static_cast<long long>(summary.examined));
  std::printf("%sre-driven: %lld\n", verb, static_cast<long long>(redriven));
  for (const auto& [t, n] : summary.redriven)
    std::printf("  to %s: %lld\n", t.c_str(), static_cast<long long>(n));
  std::printf("not matching --where: %lld (%scommitted past)\n",
              static_cast<long long>(summary.not_matching), verb);
  std::printf("skipped (no target): %lld (%scommitted past)\n",
              static_cast<long long>(summary.no_target), verb);
  std::printf("refused (value omitted): %lld (%scommitted past)\n",
              static_cast<long long>(summary.value_omitted), verb);
  for (const auto& [p, off] : summary.reached)
    std::printf("partition %d: %scommitted at %lld\n", p, verb, static_cast<long long>(off));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor: Kafka partitions as CAF actors"};
  app.require_subcommand(1);

  auto* demo = app.add_subcommand("demo", "run a two-agent pipeline on the embedded cluster");
  int records = 1000;
  std::string demo_brokers;
  demo->add_option("--records", records, "orders to feed through the pipeline")
      ->check(CLI::Range(1, 1000000));
  demo->add_option("--brokers", demo_brokers, "use these brokers instead of the embedded cluster");

  auto* lag = app.add_subcommand("lag", "report a consumer group's lag per partition");
  std::string brokers, group;
  bool json = false;
  int timeout_ms = 10000;
  lag->add_option("--brokers", brokers, "bootstrap servers")->required();
  lag->add_option("--group", group, "consumer group id")->required();
  lag->add_flag("--json", json, "print JSON");
  lag->add_option("--timeout-ms", timeout_ms, "how long to wait for the cluster")
      ->check(CLI::PositiveNumber);

  auto* dlq = app.add_subcommand("dlq", "inspect and re-drive a dead-letter topic");
  dlq->require_subcommand(1);
  auto* dlq_show = dlq->add_subcommand(
      "show", "print a dead-letter topic's records, one per line, with their kactor.dlq.* headers");
  std::string show_brokers, show_topic;
  std::size_t show_limit = 0;
  bool show_json = false;
  int show_timeout_ms = 10000;
  dlq_show->add_option("--brokers", show_brokers, "bootstrap servers")->required();
  dlq_show->add_option("--dlq", show_topic, "dead-letter topic")->required();
  dlq_show->add_option("--limit", show_limit, "stop after this many records")
      ->check(CLI::PositiveNumber);
  dlq_show->add_flag("--json", show_json,
                     "one JSON object per line with every header, key and value; text that is "
                     "not UTF-8 is base64 under key_base64/value_base64");
  dlq_show->add_option("--timeout-ms", show_timeout_ms, "how long to wait for the cluster")
      ->check(CLI::PositiveNumber);

  auto* dlq_redrive = dlq->add_subcommand(
      "redrive",
      "re-emit dead-lettered records to their source topic, resuming from group "
      "kactor-redrive.<dlq>");
  kactor::detail::redrive_options redrive_opts;
  std::vector<std::string> redrive_where;
  int redrive_timeout_ms = 30000;
  dlq_redrive->add_option("--brokers", redrive_opts.brokers, "bootstrap servers")->required();
  dlq_redrive->add_option("--dlq", redrive_opts.dlq, "dead-letter topic")->required();
  dlq_redrive->add_option("--to", redrive_opts.to,
                          "target topic (default: each record's kactor.dlq.source.topic)");
  dlq_redrive
      ->add_option("--where", redrive_where,
                   "HEADER=VALUE: re-drive only records whose last HEADER is exactly VALUE "
                   "(repeatable; all must match)")
      ->check(CLI::Validator(
          [](std::string& w) {
            return w.find('=') == std::string::npos || w.front() == '='
                       ? std::string("expected HEADER=VALUE")
                       : std::string();
          },
          "HEADER=VALUE"));
  dlq_redrive->add_flag("--dry-run", redrive_opts.dry_run,
                        "print what would be re-driven; produce and commit nothing");
  dlq_redrive
      ->add_option("--timeout-ms", redrive_timeout_ms,
                   "how long to wait for the cluster, reading or delivery to progress")
      ->check(CLI::PositiveNumber);

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  try {
    if (*demo) return run_demo(records, demo_brokers);
    if (*lag) return run_lag(brokers, group, json, timeout_ms);
    if (*dlq_show)
      return run_dlq_show(show_brokers, show_topic, show_limit, show_json, show_timeout_ms);
    if (*dlq_redrive) {
      redrive_opts.timeout = std::chrono::milliseconds(redrive_timeout_ms);
      return run_dlq_redrive(redrive_opts, redrive_where);
    }
  } catch (const kactor::config_error& e) {
    std::fprintf(stderr, "kactor: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kactor: %s\n", e.what());
    return 1;
  }
  return 0;
}
