// A runtime process for timers_chaos_test, exactly_once, until SIGTERM.
//
// --in I --out O: agent "sched" keeps a timer per record of I (key: the
// record's key, due the record's value in ms after it is handled) and, when
// it fires, emits "fired:<value>" under the key to O.
//
// --asks A --questions Q --reply-topic R --out O: agent "asker" sends a
// request to Q per record of A (timeout: the record's value in ms) with its
// replies on R, and emits "reply:<reply value>" or "timeout" under the
// request's key to O.

#include <chrono>
#include <string>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

namespace {

std::chrono::milliseconds millis(std::string_view v) {
  return std::chrono::milliseconds(std::stoll(std::string(v)));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor test worker: timers and requests"};
  examples::options opts;
  opts.add_to(app);
  std::string in, out, group, asks, questions, reply_topic;
  app.add_option("--in", in);
  app.add_option("--asks", asks);
  app.add_option("--questions", questions);
  app.add_option("--reply-topic", reply_topic);
  app.add_option("--out", out)->required();
  app.add_option("--group", group)->required();
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    using kactor::context;
    kactor::runtime rt(opts.config());
    if (!in.empty())
      rt.agent("sched").consume(in).group(group).timers().exactly_once().behavior(
          [&](context& ctx) -> caf::behavior {
            return {
                [&ctx](const kactor::event& e) {
                  ctx.schedule("t", e.key(), millis(e.value()), e.value());
                },
                [&ctx, &out](const kactor::timer& t) {
                  ctx.emit(out, t.key, "fired:" + t.payload);
                },
            };
          });
    if (!asks.empty())
      rt.agent("asker")
          .consume(asks)
          .group(group + "-asker")
          .requests(reply_topic)
          .exactly_once()
          .behavior([&](context& ctx) -> caf::behavior {
            return {
                [&ctx, &questions](const kactor::event& e) {
                  ctx.request(questions, e.key(), "q-" + std::string(e.key()), millis(e.value()));
                },
                [&ctx, &out](const kactor::reply& r) {
                  ctx.emit(out, r.request.key, "reply:" + std::string(r.response.value()));
                },
                [&ctx, &out](const kactor::reply_timeout& t) {
                  ctx.emit(out, t.request.key, "timeout");
                },
            };
          });
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    return rt.run_until_signal();
  });
}
