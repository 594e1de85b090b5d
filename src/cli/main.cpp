// The kactor command line: `demo` runs the article's e-commerce pipeline
// (examples/ecommerce) on the embedded cluster; `lag` reports a consumer group's lag on any
// cluster; `dlq show` and `dlq redrive` inspect and re-drive a dead-letter topic; `bench rebalance`
// measures how a change of membership stalls a group's partitions; `store dump`
// prints what a local state store holds; `trace` follows a key or a header
// value across topics; `replay` moves a group's committed offsets.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <kactor/kactor.hpp>
#include <nlohmann/json.hpp>

#include "src/cli/demo.hpp"
#include "src/cli/dlq_tool.hpp"
#include "src/cli/lag_tool.hpp"
#include "src/cli/progress.hpp"
#include "src/cli/rebalance_bench.hpp"
#include "src/cli/replay_tool.hpp"
#include "src/cli/store_tool.hpp"
#include "src/cli/trace_tool.hpp"
#include "src/config/time.hpp"
#include "src/kafka/admin.hpp"

namespace {

int run_dlq_show(const std::string& brokers, const std::string& topic, std::size_t limit, bool json,
                 int timeout_ms) {
  const auto n =
      kactor::detail::read_dlq(brokers, topic, limit, std::chrono::milliseconds(timeout_ms),
                               [json](const kactor::detail::topic_record& r) {
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
  opts.progress = &std::cerr;
  opts.terminal = kactor::detail::stderr_is_terminal();
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

int run_bench_rebalance(const kactor::detail::rebalance_options& o, bool json,
                        const std::string& svg) {
  auto report = kactor::detail::run_rebalance_bench(
      o, [](const std::string& line) { std::fprintf(stderr, "kactor bench: %s\n", line.c_str()); });
  if (!svg.empty()) {
    const auto& run = kactor::detail::median_run(report);
    std::size_t index = 1;
    while (&report.runs[index - 1] != &run) ++index;
    const auto title = std::string("kactor bench rebalance: ") + to_string(o.scenario) + " " +
                       std::to_string(o.members_before) + ":" + std::to_string(o.members_after) +
                       ", " + kactor::to_string(o.assignor) + (o.static_members ? ", static" : "") +
                       " (repetition " + std::to_string(index) + " of " +
                       std::to_string(report.runs.size()) + ", the median settle)";
    std::ofstream out(svg, std::ios::trunc);
    out << kactor::detail::render_timeline_svg(run.timeline, title);
    if (!out.flush()) throw std::runtime_error("cannot write " + svg);
    std::fprintf(stderr, "kactor bench: timeline of repetition %zu written to %s\n", index,
                 svg.c_str());
  }
  if (json)
    std::cout << kactor::detail::to_json(report).dump() << "\n";
  else
    std::cout << kactor::detail::to_text(report);
  return 0;
}

}  // namespace

/// Accepts "NAME=VALUE" with a non-empty NAME; `shape` ("KEY=VALUE") names it.
CLI::Validator name_equals_value(const std::string& shape) {
  return CLI::Validator(
      [shape](std::string& v) {
        return v.find('=') == std::string::npos || v.front() == '=' ? "expected " + shape
                                                                    : std::string();
      },
      shape);
}

/// A subcommand and what runs it once the command line is parsed.
struct command {
  CLI::App* app;
  std::function<int()> run;
};

command add_demo(CLI::App& app) {
  auto* demo = app.add_subcommand(
      "demo", "run the article's e-commerce pipeline (five agents) on the embedded cluster");
  auto orders = std::make_shared<int>(1000);
  auto brokers = std::make_shared<std::string>();
  demo->add_option("--orders", *orders, "orders to feed through the pipeline")
      ->check(CLI::Range(1, 1000000));
  demo->add_option("--brokers", *brokers,
                   "use these brokers instead of the embedded cluster (fraud then runs "
                   "exactly_once)");
  return {demo, [=] { return kactor::detail::run_demo(*orders, *brokers); }};
}

command add_lag(CLI::App& app) {
  auto* lag = app.add_subcommand("lag", "report a consumer group's lag per partition");
  struct options {
    std::string brokers, group;
    bool json = false, watch = false;
    int timeout_ms = 10000, every_ms = 2000, for_s = 0;
  };
  auto o = std::make_shared<options>();
  lag->add_option("--brokers", o->brokers, "bootstrap servers")->required();
  lag->add_option("--group", o->group, "consumer group id")->required();
  lag->add_flag("--json", o->json, "print JSON");
  lag->add_option("--timeout-ms", o->timeout_ms, "how long to wait for the cluster")
      ->check(CLI::PositiveNumber);
  lag->add_flag("--watch", o->watch,
                "follow the group until its lag is 0 (say, its reprocessing after `kactor "
                "replay`), with progress on stderr; exit 1 if --for passes first");
  lag->add_option("--every-ms", o->every_ms,
                  "--watch off a terminal: a progress line this often (on one: redrawn in place)")
      ->check(CLI::PositiveNumber);
  lag->add_option("--for", o->for_s, "--watch: give up after this many seconds (0: never)")
      ->check(CLI::NonNegativeNumber);
  return {lag, [o] {
            return o->watch ? kactor::detail::watch_lag(o->brokers, o->group, o->json,
                                                        o->timeout_ms, o->every_ms, o->for_s)
                            : kactor::detail::run_lag(o->brokers, o->group, o->json, o->timeout_ms);
          }};
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
      ->check(name_equals_value("HEADER=VALUE"));
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

command add_bench_rebalance(CLI::App& bench) {
  using kactor::detail::rebalance_scenario;
  auto* rebalance = bench.add_subcommand(
      "rebalance",
      "measure how a member joining, leaving, crashing or restarting stalls a group's "
      "partitions, with members as separate processes on a steadily fed topic");
  struct options {
    kactor::detail::rebalance_options bench;
    std::string members, scenario = "join", assignor = "cooperative-sticky", svg;
    std::vector<std::string> consumer;
    int steady_ms = 1000, session_timeout_ms = 6000, timeout_ms = 60000;
    bool json = false;
  };
  auto o = std::make_shared<options>();
  rebalance->add_option("--brokers", o->bench.brokers, "bootstrap servers")->required();
  rebalance->add_option("--partitions", o->bench.partitions, "partitions of the topic (default 8)")
      ->check(CLI::Range(1, 1000));
  rebalance->add_option("--rate", o->bench.rate, "records/s fed to the topic (default 2000)")
      ->check(CLI::Range(1, 1000000));
  rebalance->add_option("--members", o->members,
                        "members before and after the change, BEFORE:AFTER (default: join 1:2, "
                        "leave and crash 2:1, restart 2:2)");
  rebalance
      ->add_option("--scenario", o->scenario,
                   "join: new members start; leave: members stop (SIGTERM); crash: members are "
                   "killed (SIGKILL); restart: the last member is killed and started again")
      ->check(CLI::IsMember({"join", "leave", "crash", "restart"}));
  rebalance
      ->add_option("--assignor", o->assignor, "partition assignment (default cooperative-sticky)")
      ->check(CLI::IsMember({"cooperative-sticky", "range", "roundrobin"}));
  rebalance->add_flag("--static", o->bench.static_members,
                      "static membership: a group.instance.id per member");
  rebalance->add_option("--repetitions", o->bench.repetitions, "repetitions (default 5)")
      ->check(CLI::Range(1, 1000));
  rebalance->add_flag("--produce", o->bench.produce,
                      "members emit each record to a second topic, so revocations wait for "
                      "acknowledgements as a producing agent's do");
  rebalance->add_flag("--json", o->json, "print the report as JSON");
  rebalance->add_option("--svg", o->svg,
                        "write the timeline of the median repetition as an SVG picture");
  rebalance
      ->add_option("--session-timeout-ms", o->session_timeout_ms,
                   "the members' session.timeout.ms (default 6000): crash waits this long")
      ->check(CLI::Range(1000, 1800000));
  rebalance
      ->add_option("--steady-ms", o->steady_ms, "steady window before the change (default 1000)")
      ->check(CLI::Range(100, 600000));
  rebalance
      ->add_option("--consumer", o->consumer,
                   "KEY=VALUE: a librdkafka consumer property for the members (repeatable)")
      ->check(name_equals_value("KEY=VALUE"));
  rebalance
      ->add_option("--timeout-ms", o->timeout_ms,
                   "bound on each wait: the group settling, a member stopping (default 60000)")
      ->check(CLI::PositiveNumber);
  rebalance->add_option("--work-dir", o->bench.work_dir,
                        "keep the members' logs and reports here (default: a temporary "
                        "directory, removed after a successful run)");
  return {rebalance, [o] {
            auto& b = o->bench;
            for (auto s : {rebalance_scenario::join, rebalance_scenario::leave,
                           rebalance_scenario::crash, rebalance_scenario::restart})
              if (o->scenario == to_string(s)) b.scenario = s;
            for (auto a : {kactor::assignor_kind::cooperative_sticky, kactor::assignor_kind::range,
                           kactor::assignor_kind::roundrobin})
              if (o->assignor == kactor::to_string(a)) b.assignor = a;
            std::tie(b.members_before, b.members_after) =
                o->members.empty() ? kactor::detail::default_members(b.scenario)
                                   : kactor::detail::parse_members(o->members);
            b.steady = std::chrono::milliseconds(o->steady_ms);
            b.session_timeout = std::chrono::milliseconds(o->session_timeout_ms);
            b.timeout =
                std::chrono::milliseconds(std::max(o->timeout_ms, 3 * o->session_timeout_ms));
            for (const auto& kv : o->consumer)
              b.consumer[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
            kactor::detail::validate(b);
            return run_bench_rebalance(b, o->json, o->svg);
          }};
}

command add_store_dump(CLI::App& store) {
  auto* dump = store.add_subcommand(
      "dump", "print a local state store's keys and values per partition, read-only");
  dump->footer(
      "Works while the owning process runs, without taking the stores' locks, and shows what is "
      "flushed to disk: everything up to each partition's last checkpoint or clean close. Writes "
      "skip the WAL, so those still in the running process's memtables are not shown.");
  struct options {
    kactor::detail::store_dump_options dump;
    std::int32_t partition = 0;
  };
  auto o = std::make_shared<options>();
  dump->add_option("--state-dir", o->dump.state_dir, "the agents' state_dir")->required();
  dump->add_option("--group", o->dump.group, "the agent's consumer group")->required();
  dump->add_option("--store", o->dump.store, "the store's name")->required();
  auto* partition =
      dump->add_option("--partition", o->partition, "only this partition (default: every one)")
          ->check(CLI::NonNegativeNumber);
  dump->add_flag("--json", o->dump.json,
                 "one JSON document; keys and values are strings escaped as in the text (a "
                 "backslash as \\\\, bytes that are not printable UTF-8 as \\xNN), values whole");
  return {dump, [o, partition] {
            if (partition->count() > 0) o->dump.partition = o->partition;
            return kactor::detail::run_store_dump(o->dump, std::cout, std::cerr);
          }};
}

command add_trace(CLI::App& app) {
  auto* trace = app.add_subcommand(
      "trace", "every record of a key (or a header value) across topics, in timestamp order");
  trace->footer(
      "Reads each partition of the matching topics from --from (or the start) to its end at "
      "read_committed, without joining or committing for any group. Exit code 2: a bad pattern "
      "or no matching topic; 1: the brokers cannot be reached or reading fails.");
  struct options {
    kactor::detail::trace_options trace;
    std::string key, header, from;
    int timeout_ms = 30000;
  };
  auto o = std::make_shared<options>();
  trace->add_option("--brokers", o->trace.brokers, "bootstrap servers")->required();
  trace
      ->add_option("--topics", o->trace.topics,
                   "comma-separated regular expressions matching whole topic names, "
                   "e.g. 'trip.*,flight.*'")
      ->required();
  auto* key = trace->add_option("--key", o->key, "only records with this key");
  auto* header = trace->add_option("--header", o->header,
                                   "only records with this header: name=value (e.g. a saga "
                                   "or correlation id)");
  key->excludes(header);
  header->excludes(key);
  trace->add_option("--from", o->from,
                    "only records from this time: ISO-8601 (2026-12-01T10:00:00Z) or ms since "
                    "the epoch");
  trace->add_flag("--json", o->trace.json, "one JSON object per record");
  trace->add_option("--timeout-ms", o->timeout_ms, "how long to wait for the cluster")
      ->check(CLI::PositiveNumber);
  return {trace, [o, key, header] {
            if (key->count() == 0 && header->count() == 0)
              throw CLI::ValidationError("--key or --header", "one of them is required");
            if (key->count() > 0) o->trace.key = o->key;
            if (header->count() > 0) {
              const auto eq = o->header.find('=');
              if (eq == std::string::npos || eq == 0)
                throw CLI::ValidationError("--header",
                                           "expected name=value, got '" + o->header + "'");
              o->trace.header = std::make_pair(o->header.substr(0, eq), o->header.substr(eq + 1));
            }
            if (!o->from.empty()) {
              o->trace.from_ms = kactor::detail::parse_time(o->from);
              if (!o->trace.from_ms)
                throw CLI::ValidationError("--from",
                                           "not ISO-8601 (2026-12-01T10:00:00Z) nor ms "
                                           "since the epoch: '" +
                                               o->from + "'");
            }
            o->trace.timeout = std::chrono::milliseconds(o->timeout_ms);
            o->trace.terminal = kactor::detail::stderr_is_terminal();
            return kactor::detail::run_trace(o->trace, std::cout, std::cerr);
          }};
}

command add_replay(CLI::App& app) {
  auto* replay = app.add_subcommand(
      "replay", "move a consumer group's committed offsets on a topic, to reprocess from there");
  replay->footer(
      "Sets the group's committed offset of every partition of --topic (AlterConsumerGroupOffsets) "
      "and prints old -> new per partition. Refused while the group has active members (they are "
      "named). --from takes each partition's first record at or after the time (offsetsForTimes; "
      "the end if none is that new); --offset is clamped to each log. Exit code 2: bad arguments; "
      "1: refused, or the cluster cannot be reached or refuses.");
  struct options {
    kactor::detail::replay_options replay;
    std::string from;
    std::int64_t offset = -1;
    bool earliest = false, latest = false;
    int timeout_ms = 10000;
  };
  auto o = std::make_shared<options>();
  replay->add_option("--brokers", o->replay.brokers, "bootstrap servers")->required();
  replay->add_option("--group", o->replay.group, "consumer group id")->required();
  replay->add_option("--topic", o->replay.topic, "the topic whose offsets move")->required();
  auto* from = replay->add_option("--from", o->from,
                                  "a time: ISO-8601 (2026-12-01T10:00:00Z) or ms since the epoch");
  auto* offset = replay->add_option("--offset", o->offset, "an offset, the same on every partition")
                     ->check(CLI::NonNegativeNumber);
  auto* earliest = replay->add_flag("--earliest", o->earliest, "each partition's start");
  auto* latest = replay->add_flag("--latest", o->latest, "each partition's end (skip everything)");
  replay->add_flag("--dry-run", o->replay.dry_run, "print the plan, commit nothing");
  replay->add_option("--timeout-ms", o->timeout_ms, "how long to wait for the cluster")
      ->check(CLI::PositiveNumber);
  return {replay, [o, from, offset, earliest, latest] {
            using target = kactor::detail::replay_options::target;
            const auto given =
                from->count() + offset->count() + earliest->count() + latest->count();
            if (given != 1)
              throw CLI::ValidationError("--from, --offset, --earliest, --latest",
                                         "exactly one of them is required");
            if (from->count() > 0) {
              const auto ms = kactor::detail::parse_time(o->from);
              if (!ms)
                throw CLI::ValidationError("--from",
                                           "not ISO-8601 (2026-12-01T10:00:00Z) nor ms "
                                           "since the epoch: '" +
                                               o->from + "'");
              o->replay.to = target::time;
              o->replay.value = *ms;
            } else if (offset->count() > 0) {
              o->replay.to = target::offset;
              o->replay.value = o->offset;
            } else {
              o->replay.to = earliest->count() > 0 ? target::earliest : target::latest;
            }
            o->replay.timeout = std::chrono::milliseconds(o->timeout_ms);
            try {
              const auto rows = kactor::detail::run_replay(o->replay);
              kactor::detail::print_replay(o->replay, rows, std::cout);
            } catch (const kactor::detail::replay_refused& e) {
              std::fprintf(stderr, "kactor: refused: %s\n", e.what());
              return 1;
            }
            return 0;
          }};
}

int main(int argc, char** argv) {
  if (auto member = kactor::detail::run_rebalance_member_if_invoked(argc, argv)) return *member;
  CLI::App app{"kactor: Kafka partitions as CAF actors"};
  app.require_subcommand(1);
  std::vector<command> commands{add_demo(app), add_lag(app)};
  auto* dlq = app.add_subcommand("dlq", "inspect and re-drive a dead-letter topic");
  dlq->require_subcommand(1);
  commands.push_back(add_dlq_show(*dlq));
  commands.push_back(add_dlq_redrive(*dlq));
  auto* bench = app.add_subcommand("bench", "measure kactor on a cluster");
  bench->require_subcommand(1);
  commands.push_back(add_bench_rebalance(*bench));
  auto* store = app.add_subcommand("store", "inspect local state stores");
  store->require_subcommand(1);
  commands.push_back(add_store_dump(*store));
  commands.push_back(add_trace(app));
  commands.push_back(add_replay(app));

  CLI11_PARSE(app, argc, argv);
  kactor::log_config quiet;
  quiet.level = kactor::log_level::warn;
  kactor::configure_log(quiet);
  try {
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const kactor::detail::bench_usage_error& e) {
    std::fprintf(stderr, "kactor: %s\nRun with --help for more information.\n", e.what());
    return 2;
  } catch (const CLI::ValidationError& e) {
    std::fprintf(stderr, "kactor: %s\nRun with --help for more information.\n", e.what());
    return 2;
  } catch (const kactor::config_error& e) {
    std::fprintf(stderr, "kactor: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kactor: %s\n", e.what());
    return 1;
  }
  return 0;
}
