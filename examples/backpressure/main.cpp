// The article's pattern 2: backpressure through partition lag. The handler is
// slow (a stand-in for a 2 s model call); each partition actor holds at most
// --max-poll-records records, pauses its partition when full and resumes when
// it drains, so the backlog stays in Kafka as lag and memory stays flat.
//
//   backpressure --brokers 127.0.0.1:9092 --input tasks.pending --delay-us 2000
//   backpressure                      # self-contained run on the embedded cluster

#include <chrono>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

namespace {

void report(const kactor::runtime& rt) {
  auto s = rt.stats();
  std::uint64_t processed = 0;
  std::size_t held = 0;
  std::string paused;
  for (const auto& p : s.agents.at(0).partitions) {
    processed += p.processed;
    held += p.in_flight;
    if (p.paused) paused += (paused.empty() ? "" : ",") + std::to_string(p.tp.partition.value());
  }
  std::cout << "processed " << processed << ", held " << held << ", paused partitions [" << paused
            << "], rss " << examples::resident_kib() / 1024 << " MiB" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor example: a slow agent whose backlog stays in Kafka"};
  std::string input = "tasks.pending", group = "slow-workers";
  std::size_t max_poll_records = 10;
  int delay_us = 2000, records = 2000, partitions = 4, value_bytes = 100;
  app.add_option("--input", input);
  app.add_option("--group", group);
  app.add_option("--max-poll-records", max_poll_records)->check(CLI::Range(1, 100000));
  app.add_option("--delay-us", delay_us, "simulated work per record")
      ->check(CLI::Range(0, 10000000));
  app.add_option("--records", records, "records fed in the self-contained demo");
  app.add_option("--partitions", partitions, "partitions of the demo's topic");
  app.add_option("--value-bytes", value_bytes, "size of the demo's records");
  examples::options opts;
  opts.add_to(app);
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    const bool demo = rt.embedded();
    if (demo) rt.create_topic(input, partitions);
    rt.agent("slow")
        .consume(input)
        .group(group)
        .max_poll_records(max_poll_records)
        .on([delay_us](const kactor::event&, kactor::context&) {
          // The slow inference call this example is about.
          std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
        });
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    rt.stop_on_signals();
    rt.start();
    if (demo) {
      const std::string value(static_cast<std::size_t>(value_bytes), 'x');
      for (int i = 0; i < records; ++i) rt.emit(input, "task-" + std::to_string(i), value);
      rt.flush(std::chrono::seconds(30));
    }
    auto processed = [&] { return examples::processed(rt, "slow"); };
    // Report twice a second; the demo ends when its records are done, a
    // member of a real cluster when it is told to stop.
    while (!(demo && processed() >= static_cast<std::uint64_t>(records)) &&
           !rt.wait_for_stop_request(std::chrono::milliseconds(500)))
      report(rt);
    report(rt);
    rt.stop();
    std::size_t max_held = 0;
    const auto rt_stats = rt.stats();
    for (const auto& p : rt_stats.agents.at(0).partitions)
      max_held = std::max(max_held, p.max_in_flight);
    std::cout << "done: most records held by one partition actor: " << max_held
              << " (max_poll_records " << max_poll_records << ")\n";
    return max_held <= max_poll_records ? 0 : 1;
  });
}
