// A runtime process for exactly_once_chaos_test: one exactly_once agent that
// copies `--in` to `--out` (same key and value) until SIGTERM.
//
// --stall-at V --stall-flag F: the process that handles the record whose value
// is V, after emitting it into its open transaction (and 300 ms for the emit
// to reach the broker), stops itself (SIGSTOP) —
// once across processes: only the one that creates F does. The test then
// resumes it with SIGCONT, a zombie whose transaction the broker has aborted.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kactor test worker: exactly_once copier"};
  examples::options opts;
  opts.add_to(app);
  std::string in, out, group, instance, stall_at, stall_flag;
  app.add_option("--in", in)->required();
  app.add_option("--out", out)->required();
  app.add_option("--group", group)->required();
  app.add_option("--instance", instance, "group.instance.id (static membership)");
  app.add_option("--stall-at", stall_at);
  app.add_option("--stall-flag", stall_flag);
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    auto agent = rt.agent("copier").consume(in).group(group).exactly_once();
    if (!instance.empty()) agent.static_member(instance);
    agent.on([&](const kactor::event& e, kactor::context& ctx) {
      ctx.emit(out, e.key(), e.value());
      if (!stall_at.empty() && e.value() == stall_at &&
          ::open(stall_flag.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0) {
        // A slow handler: its emit leaves (linger.ms) and joins the open
        // transaction on the broker before the process stops. The test checks
        // that it did: read_committed readers are held back.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ::raise(SIGSTOP);
      }
    });
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    rt.run_until_signal();
    return 0;
  });
}
