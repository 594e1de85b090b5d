// The article's pattern 1: consumer groups spread partitions over instances.
// Run several copies with the same --group against one cluster; each copy's
// partition actors process the partitions Kafka gives it, and a copy that dies
// has its partitions moved to the others, with no coordinator in between.
//
//   consumer_groups --brokers 127.0.0.1:9092 --group workers --instance a
//   consumer_groups                       # self-contained run on the embedded cluster

#include <algorithm>
#include <atomic>
#include <iostream>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kactor example: one agent, many instances, one consumer group"};
  examples::options opts;  // --config: its agent "worker" configures this agent
  opts.add_to(app);
  std::string input = "tasks.pending", output = "tasks.completed", group = "agent-b-workers";
  std::string instance = "instance-1", assignor = "cooperative-sticky";
  std::size_t max_poll_records = 100;
  int records = 2000, partitions = 8;
  auto* input_opt = app.add_option("--input", input);
  app.add_option("--output", output);
  auto* group_opt = app.add_option("--group", group);
  app.add_option("--instance", instance, "this copy's name, written into every output record");
  auto* assignor_opt = app.add_option("--assignor", assignor)
                           ->check(CLI::IsMember({"cooperative-sticky", "range", "roundrobin"}));
  auto* max_poll_opt =
      app.add_option("--max-poll-records", max_poll_records)->check(CLI::Range(1, 100000));
  app.add_option("--records", records, "records fed in the self-contained demo");
  app.add_option("--partitions", partitions, "partitions of the demo's topics");
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    const auto cfg = opts.config();
    kactor::runtime rt(cfg);
    const bool demo = rt.embedded();
    if (demo) {
      rt.create_topic(input, partitions);
      rt.create_topic(output, partitions);
    }
    const bool configured = std::any_of(cfg.agents.begin(), cfg.agents.end(),
                                        [](const auto& a) { return a.name == "worker"; });
    auto a = rt.agent("worker");
    if (!configured || *input_opt) a.consume(input);
    if (!configured || *group_opt) a.group(group);
    if (!configured || *max_poll_opt) a.max_poll_records(max_poll_records);
    if (*assignor_opt)
      a.assignor(assignor == "range"        ? kactor::assignor_kind::range
                 : assignor == "roundrobin" ? kactor::assignor_kind::roundrobin
                                            : kactor::assignor_kind::cooperative_sticky);
    // Each task goes to exactly one instance of the group; the result says who did it.
    a.on([&instance, &output](const kactor::event& e, kactor::context& ctx) {
      ctx.emit(output, e.key(), e.value(), {{"instance", instance}, {"source", e.describe()}});
    });
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    if (!demo) {
      return rt.run_until_signal();
    }
    rt.start();
    for (int i = 0; i < records; ++i)
      rt.emit(input, "task-" + std::to_string(i), "payload-" + std::to_string(i));
    rt.flush(std::chrono::seconds(30));
    auto processed = [&] { return examples::processed(rt, "worker"); };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (processed() < static_cast<std::uint64_t>(records) &&
           std::chrono::steady_clock::now() < deadline)
      rt.wait_for_stop_request(std::chrono::milliseconds(20));
    rt.stop();
    std::cout << instance << " processed " << processed() << " of " << records << " tasks over "
              << rt.stats().agents.at(0).partitions.size() << " partitions\n";
    return processed() == static_cast<std::uint64_t>(records) ? 0 : 1;
  });
}
