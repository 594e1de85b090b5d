// The article's pattern 6, request-reply without blocking: an assistant agent
// asks the knowledge agent each user's question and goes on with other
// events; the answer comes back on user.answers, is matched to the stored
// request by its correlation id and sent to the user. The pending request
// lives in the assistant's state (kactor.requests), so a restart of either
// agent loses no question; one not answered within --timeout-ms gets an
// apology instead, never both.
//
//   user.questions -> assistant --request--> knowledge.requests -> knowledge
//   knowledge --reply--> user.answers -> assistant -> user.notifications
//
//   knowledge_request_reply [--questions N] [--unanswered-every K]
//       self-contained run on the embedded cluster: N questions, the
//       knowledge agent leaves every K-th unanswered (0: none); a summary,
//       exit 0 once every question got its answer or its apology
//   knowledge_request_reply --brokers B [--agents assistant|knowledge] [--exactly-once]
//       those agents only, until SIGTERM

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <string>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

namespace {

/// The knowledge base: what the knowledge agent knows.
std::string query_knowledge_base(std::string_view question) {
  static const std::map<std::string, std::string, std::less<>> facts{
      {"what is kafka", "a distributed, partitioned, replicated commit log"},
      {"what is an actor", "a unit of state and behaviour that reacts to messages"},
      {"what is a saga", "a long transaction of local steps, each with a compensation"},
  };
  const auto it = facts.find(question);
  return it != facts.end() ? it->second : "nothing known about '" + std::string(question) + "'";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor example: request-reply between agents"};
  examples::options opts;
  opts.add_to(app);
  std::string agents = "assistant,knowledge";
  int questions = 100, unanswered_every = 10;
  unsigned timeout_ms = 2000;
  bool exactly_once = false;
  app.add_option("--questions", questions, "questions asked in the self-contained run");
  app.add_option("--unanswered-every", unanswered_every,
                 "the knowledge agent leaves every K-th question unanswered (0: none)");
  app.add_option("--timeout-ms", timeout_ms, "how long the assistant waits for an answer");
  app.add_option("--agents", agents, "agents this process runs: assistant,knowledge");
  app.add_flag("--exactly-once", exactly_once, "both agents commit in Kafka transactions");
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    const bool demo = rt.embedded();
    for (const char* t :
         {"user.questions", "knowledge.requests", "user.answers", "user.notifications"})
      rt.create_topic(t, 4);
    auto runs = [&](const char* a) {
      return ("," + agents + ",").find(std::string(",") + a + ",") != std::string::npos;
    };

    if (runs("knowledge")) {
      auto knowledge = rt.agent("knowledge").consume("knowledge.requests");
      if (exactly_once) knowledge.exactly_once();
      knowledge.on([unanswered_every](const kactor::event& e, kactor::context& ctx) {
        // A question this agent cannot get to (as if it were down): no reply.
        if (unanswered_every > 0 && e.offset().value() % unanswered_every == unanswered_every - 1)
          return;
        ctx.reply(e, query_knowledge_base(e.value()));
      });
    }

    std::atomic<int> answered{0}, apologised{0};
    if (runs("assistant")) {
      // Replies on user.answers (co-partitioned with user.questions), pending
      // requests in the assistant's state.
      auto assistant = rt.agent("assistant").consume("user.questions").requests("user.answers");
      if (exactly_once) assistant.exactly_once();
      const auto timeout = std::chrono::milliseconds(timeout_ms);
      assistant.behavior([&, timeout](kactor::context& ctx) -> caf::behavior {
        return {
            // A user's question: ask, and go on with the next event.
            [&ctx, timeout](const kactor::event& e) {
              ctx.request("knowledge.requests", e.key(), e.value(), timeout);
            },
            // The answer, matched to the stored request.
            [&ctx, &answered](const kactor::reply& r) {
              ctx.emit("user.notifications", r.request.key,
                       r.request.value + "? " + std::string(r.response.value()));
              ++answered;
            },
            [&ctx, &apologised](const kactor::reply_timeout& t) {
              ctx.emit("user.notifications", t.request.key,
                       t.request.value + "? sorry, no answer in time");
              ++apologised;
            },
        };
      });
    }
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    if (!demo) return rt.run_until_signal();

    static const char* asked[] = {"what is kafka", "what is an actor", "what is a saga",
                                  "what is love"};
    for (int i = 0; i < questions; ++i)
      rt.emit("user.questions", "user-" + std::to_string(i), asked[i % 4]);
    rt.flush(std::chrono::seconds(30));
    const bool all = rt.run_until(
        [&](const kactor::runtime_stats&) { return answered + apologised == questions; },
        std::chrono::seconds(60));
    rt.stop();
    std::cout << "questions: " << questions << " asked, " << answered << " answered, " << apologised
              << " timed out (apologised), " << questions - answered - apologised
              << " without an outcome\n";
    return all ? 0 : 1;
  });
}
