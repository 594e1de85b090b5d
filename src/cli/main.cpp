// The kactor command line: `demo` runs a two-agent pipeline on the embedded
// cluster; `lag` reports a consumer group's lag on any cluster; `dlq show` and
// `dlq redrive` inspect and re-drive a dead-letter topic.

#include <atomic>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

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
  cfg.log.level = kactor::log_level::warn;
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
    const auto from =
        kactor::to_string(kactor::topic_partition{opts.dlq, kactor::partition_id{s.partition}},
                          kactor::offset{s.offset});
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

/// A subcommand and what runs it once the command line is parsed.
struct command {
  CLI::App* app;
  std::function<int()> run;
};

command add_demo(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "run a two-agent pipeline on the embedded cluster");
  auto records = std::make_shared<int>(1000);
  auto brokers = std::make_shared<std::string>();
  demo->add_option("--records", *records, "orders to feed through the pipeline")
      ->check(CLI::Range(1, 1000000));
  demo->add_option("--brokers", *brokers, "use these brokers instead of the embedded cluster");
  return {demo, [=] { return run_demo(*records, *brokers); }};
}

command add_lag(CLI::App& app) {
  auto* lag = app.add_subcommand("lag", "report a consumer group's lag per partition");
  struct options {
    std::string brokers, group;
    bool json = false;
    int timeout_ms = 10000;
  };
  auto o = std::make_shared<options>();
  lag->add_option("--brokers", o->brokers, "bootstrap servers")->required();
  lag->add_option("--group", o->group, "consumer group id")->required();
  lag->add_flag("--json", o->json, "print JSON");
  lag->add_option("--timeout-ms", o->timeout_ms, "how long to wait for the cluster")
      ->check(CLI::PositiveNumber);
  return {lag, [o] { return run_lag(o->brokers, o->group, o->json, o->timeout_ms); }};
}

command add_dlq_show(CLI::App& dlq) {
  auto* show = dlq.add_subcommand(
      "show", "print a dead-letter topic's records, one per line, with their kactor.dlq.* headers");
  struct options {
    std::string brokers, topic;
    std::size_t limit = 0;
    bool json = false;
    int timeout_ms = 10000;
  };
  auto o = std::make_shared<options>();
  show->add_option("--brokers", o->brokers, "bootstrap servers")->required();
  show->add_option("--dlq", o->topic, "dead-letter topic")->required();
  show->add_option("--limit", o->limit, "stop after this many records")->check(CLI::PositiveNumber);
  show->add_flag("--json", o->json,
                 "one JSON object per line with every header, key and value; text that is "
                 "not UTF-8 is base64 under key_base64/value_base64");
  show->add_option("--timeout-ms", o->timeout_ms, "how long to wait for the cluster")
      ->check(CLI::PositiveNumber);
  return {show,
          [o] { return run_dlq_show(o->brokers, o->topic, o->limit, o->json, o->timeout_ms); }};
}

command add_dlq_redrive(CLI::App& dlq) {
  auto* redrive =
      dlq.add_subcommand("redrive",
                         "re-emit dead-lettered records to their source topic, resuming from group "
                         "kactor-redrive.<dlq>");
  struct options {
    kactor::detail::redrive_options redrive;
    std::vector<std::string> where;
    int timeout_ms = 30000;
  };
  auto o = std::make_shared<options>();
  redrive->add_option("--brokers", o->redrive.brokers, "bootstrap servers")->required();
  redrive->add_option("--dlq", o->redrive.dlq, "dead-letter topic")->required();
  redrive->add_option("--to", o->redrive.to,
                      "target topic (default: each record's kactor.dlq.source.topic)");
  redrive
      ->add_option("--where", o->where,
                   "HEADER=VALUE: re-drive only records whose last HEADER is exactly VALUE "
                   "(repeatable; all must match)")
      ->check(CLI::Validator(
          [](std::string& w) {
            return w.find('=') == std::string::npos || w.front() == '='
                       ? std::string("expected HEADER=VALUE")
                       : std::string();
          },
          "HEADER=VALUE"));
  redrive->add_flag("--dry-run", o->redrive.dry_run,
                    "print what would be re-driven; produce and commit nothing");
  redrive
      ->add_option("--timeout-ms", o->timeout_ms,
                   "how long to wait for the cluster, reading or delivery to progress")
      ->check(CLI::PositiveNumber);
  return {redrive, [o] {
            o->redrive.timeout = std::chrono::milliseconds(o->timeout_ms);
            return run_dlq_redrive(o->redrive, o->where);
          }};
}

int main(int argc, char** argv) {
  CLI::App app{"kactor: Kafka partitions as CAF actors"};
  app.require_subcommand(1);
  std::vector<command> commands{add_demo(app), add_lag(app)};
  auto* dlq = app.add_subcommand("dlq", "inspect and re-drive a dead-letter topic");
  dlq->require_subcommand(1);
  commands.push_back(add_dlq_show(*dlq));
  commands.push_back(add_dlq_redrive(*dlq));

  CLI11_PARSE(app, argc, argv);
  kactor::log_config quiet;
  quiet.level = kactor::log_level::warn;
  kactor::configure_log(quiet);
  try {
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const kactor::config_error& e) {
    std::fprintf(stderr, "kactor: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kactor: %s\n", e.what());
    return 1;
  }
  return 0;
}
