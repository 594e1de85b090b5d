// A runtime process for exactly_once_chaos_test: one exactly_once agent that
// copies `--in` to `--out` (same key and value) until SIGTERM.
//
// --stall-at V --stall-flag F: the process that handles the record whose value
// is V — once across processes: only the one that creates F — emits it,
// writes its pid to F and does not return from the handler (so its
// transaction cannot commit) until F.release exists. The test stops it
// (SIGSTOP) once its open transaction has records in the log, creates
// F.release, and later resumes it (SIGCONT): a zombie whose transaction the
// broker has aborted. F stays, so the record's next owner does not stall on
// it again.
//
// --transaction-interval-ms N: commit every N ms (default 100).

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"
#include "tests/test_support.hpp"

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
  unsigned interval_ms = 100;
  app.add_option("--transaction-interval-ms", interval_ms);
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    auto agent = rt.agent("copier").consume(in).group(group).exactly_once(
        std::chrono::milliseconds(interval_ms));
    if (!instance.empty()) agent.static_member(instance);
    agent.on([&](const kactor::event& e, kactor::context& ctx) {
      ctx.emit(out, e.key(), e.value());
      if (stall_at.empty() || e.value() != stall_at) return;
      const int fd = ::open(stall_flag.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
      if (fd < 0) return;
      const auto pid = std::to_string(::getpid()) + "\n";
      const bool written = ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      ::close(fd);
      if (!written) throw kactor::irrecoverable_error("cannot write " + stall_flag);
      // A condition the test controls; it stops and resumes this process.
      const auto release = stall_flag + ".release";
      kactor::test::eventually([&] { return ::access(release.c_str(), F_OK) == 0; },
                               std::chrono::hours(1));
    });
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    return rt.run_until_signal();
  });
}
