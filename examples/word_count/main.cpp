// A stateful agent: each input record is one word (its key); the agent keeps
// a count per word in the state store "counts" and emits the new count to
// word.counts. The store lives in RocksDB under state_dir and in the
// compacted topic word_count-counts-changelog, so the counts survive a crash:
//
//   word_count --brokers 127.0.0.1:9092 --set state_dir=/var/lib/wc [--stats F]
//       runs until SIGTERM; kill -9 it, start it again, and the counts go on
//       from the restored store (at least once: a word handled again after
//       the crash may count twice, never less)
//   word_count --brokers ... --exactly-once
//       the same in one Kafka transaction per 100 ms: the store, the counts
//       emitted and the input offsets commit together, so after a crash no
//       word counts twice (the store rolls back what did not commit)
//   word_count [--words N]
//       self-contained run on the embedded cluster: feeds N words, counts
//       them, and checks the store against a count made here

#include <iostream>
#include <map>
#include <mutex>
#include <string>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kactor example: word count in a state store"};
  examples::options opts;
  opts.add_to(app);
  std::string prefix;
  int words = 20000;
  bool exactly_once = false;
  app.add_flag("--exactly-once", exactly_once, "commit the store, outputs and offsets together");
  app.add_option("--words", words, "words fed in the self-contained run");
  app.add_option("--prefix", prefix, "prefix of every topic and group name (tests)");
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    const std::string input = prefix + "words", output = prefix + "word.counts";
    const bool demo = rt.embedded();
    if (demo) {
      rt.create_topic(input, 4);
      rt.create_topic(output, 4);
    }
    // What the store said last per word (the self-contained run checks it).
    std::mutex mx;
    std::map<std::string, long long> stored;
    // The behaviour: read the word's count, add one, write it back, emit it.
    auto agent = rt.agent("word_count").consume(input).group(prefix + "word_count").store("counts");
    if (exactly_once) agent.exactly_once();
    agent.on([&](const kactor::event& e, kactor::context& ctx) {
      auto& counts = ctx.kv("counts");
      const auto before = counts.get(e.key());
      const auto now = std::to_string(before ? std::stoll(*before) + 1 : 1);
      counts.put(e.key(), now);
      ctx.emit(output, e.key(), now);
      if (demo) {
        std::lock_guard lock(mx);
        stored[std::string(e.key())] = std::stoll(*counts.get(e.key()));
      }
    });
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    if (!demo) return rt.run_until_signal();

    // Self-contained: a skewed vocabulary, counted here too.
    std::map<std::string, long long> expected;
    for (int i = 0; i < words; ++i) {
      const auto word = "word-" + std::to_string((i * 7919) % (1 + i % 500));
      rt.emit(input, word, "");
      ++expected[word];
    }
    rt.flush(std::chrono::seconds(30));
    if (!rt.run_until(
            [&](const kactor::runtime_stats& s) {
              return s.finished() >= static_cast<std::uint64_t>(words);
            },
            std::chrono::seconds(60))) {
      std::cerr << "timed out after " << rt.stats().finished() << " of " << words << " words\n";
      return 1;
    }
    rt.stop();
    const bool match = stored == expected;
    std::cout << "counted " << words << " words, " << expected.size() << " distinct; the store "
              << (match ? "matches" : "does NOT match") << " the count made here; state under "
              << opts.config().state_dir << "/" << prefix << "word_count\n";
    return match ? 0 : 1;
  });
}
