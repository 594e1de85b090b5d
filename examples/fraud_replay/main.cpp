// The article's pattern 7: replay. Fraud rules v1 have been deciding on
// transactions.pending; rules v2 are a candidate. v2 runs as a new consumer
// group over the same log from a point in time, so both versions decide the
// same traffic, each in its own group, without touching v1's offsets; then
// their decisions are compared.
//
//   fraud_replay [--transactions N]
//       self-contained run on the embedded cluster: v2 replays from the
//       start (librdkafka's embedded cluster cannot look offsets up by time)
//   fraud_replay --brokers B [--prefix P] [--transactions N]
//       real broker: half the transactions are written, the time is noted,
//       the other half written; v2 starts from that time (agent start_from,
//       offsetsForTimes), v1 from the start. An existing group would be moved
//       with `kactor replay --group G --topic T --from TIME` instead.
//
// Transactions are "<id>:<customer>:<amount>:<country>"; each version emits
// "<id>:allow|block" to its own decisions topic. The end prints how the two
// versions agree and the first disagreements, and exits 1 unless v2 decided
// exactly the transactions from its start time.

#include <chrono>
#include <ctime>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fmt/chrono.h>
#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

namespace {

struct transaction {
  std::string id, customer, country;
  long amount = 0;
};

transaction parse(std::string_view v) {
  transaction t;
  std::vector<std::string> parts;
  std::size_t at = 0;
  for (auto colon = v.find(':'); colon != std::string_view::npos; colon = v.find(':', at)) {
    parts.emplace_back(v.substr(at, colon - at));
    at = colon + 1;
  }
  parts.emplace_back(v.substr(at));
  if (parts.size() != 4) throw kactor::irrecoverable_error("malformed transaction");
  t.id = parts[0];
  t.customer = parts[1];
  t.amount = std::stol(parts[2]);
  t.country = parts[3];
  return t;
}

/// v1: large amounts are blocked.
bool v1_blocks(const transaction& t) {
  return t.amount > 9000;
}

/// v2: trusted customers may spend more; large foreign amounts are blocked.
bool v2_blocks(const transaction& t) {
  const bool trusted = t.customer.back() == '0';
  return t.amount > (trusted ? 12000 : 9000) || (t.country != "DE" && t.amount > 4000);
}

/// Transaction i, the same on every run.
std::string make_transaction(int i) {
  static const char* countries[] = {"DE", "DE", "DE", "FR", "US"};
  const long amount = (i * 7919L) % 15000;
  return "tx-" + std::to_string(i) + ":c-" + std::to_string(i % 37) + ":" + std::to_string(amount) +
         ":" + countries[(i * 31) % 5];
}

using decisions = std::map<std::string, bool>;  // id -> blocked

/// `t` as ISO-8601 in UTC, with milliseconds.
std::string utc(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", tm, ms.count());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor example: fraud rules v2 replayed beside v1, decisions compared"};
  examples::options opts;
  opts.add_to(app);
  std::string prefix;
  int count = 2000;
  app.add_option("--transactions", count, "transactions written (half before v2's start time)");
  app.add_option("--prefix", prefix, "prefix of every topic and group name (tests)");
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    const std::string input = prefix + "transactions.pending";
    rt.create_topic(input, 4);
    for (const char* v : {"v1", "v2"}) rt.create_topic(prefix + "fraud." + v + ".decisions", 4);

    // The traffic: half of it, then v2's start time, then the rest. Records
    // carry the time they were produced; the start time is a millisecond
    // after the first half was acknowledged, and the second half is written
    // once the clock is past it.
    for (int i = 0; i < count / 2; ++i)
      rt.emit(input, "c-" + std::to_string(i % 37), make_transaction(i));
    if (!rt.flush(std::chrono::seconds(30))) throw std::runtime_error("input not acknowledged");
    const auto from =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
        std::chrono::milliseconds(1);
    while (std::chrono::system_clock::now() < from) {
    }
    std::set<std::string> after_from;
    for (int i = count / 2; i < count; ++i) {
      const auto tx = make_transaction(i);
      rt.emit(input, "c-" + std::to_string(i % 37), tx);
      after_from.insert(tx.substr(0, tx.find(':')));
    }
    if (!rt.flush(std::chrono::seconds(30))) throw std::runtime_error("input not acknowledged");

    std::mutex mx;
    decisions v1, v2;
    std::map<std::string, transaction> seen;
    auto rules = [&](const char* name, bool (*blocks)(const transaction&), decisions& out) {
      return [&, name, blocks](const kactor::event& e, kactor::context& ctx) {
        const auto t = parse(e.value());
        const bool blocked = blocks(t);
        ctx.emit(prefix + "fraud." + name + ".decisions", e.key(),
                 t.id + (blocked ? ":block" : ":allow"));
        std::lock_guard lock(mx);
        out[t.id] = blocked;
        seen[t.id] = t;
      };
    };
    rt.agent("fraud-v1").consume(input).group(prefix + "fraud-v1").on(rules("v1", v1_blocks, v1));
    auto v2_agent = rt.agent("fraud-v2").consume(input).group(prefix + "fraud-v2");
    const bool by_time = !rt.embedded();
    if (by_time) v2_agent.start_from(from);
    v2_agent.on(rules("v2", v2_blocks, v2));
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));

    const auto v2_expected = by_time ? after_from.size() : static_cast<std::size_t>(count);
    const bool done = rt.run_until(
        [&](const kactor::runtime_stats& s) {
          return s.finished() >= static_cast<std::uint64_t>(count) + v2_expected;
        },
        std::chrono::seconds(120));
    rt.stop();
    if (!done) {
      std::cerr << "timed out: v1 decided " << v1.size() << ", v2 " << v2.size() << "\n";
      return 1;
    }

    std::cout << "fraud v1 decided " << v1.size() << " transactions (group " << prefix
              << "fraud-v1, from the start)\n"
              << "fraud v2 decided " << v2.size() << " (group " << prefix << "fraud-v2, "
              << (by_time ? "from " + utc(from)
                          : std::string("from the start: the embedded cluster cannot look "
                                        "offsets up by time"))
              << ")\n";
    std::map<std::pair<bool, bool>, int> table;
    std::vector<std::string> differ;
    for (const auto& [id, blocked] : v2) {
      const auto it = v1.find(id);
      if (it == v1.end()) continue;
      ++table[{it->second, blocked}];
      if (it->second != blocked && differ.size() < 5) differ.push_back(id);
    }
    const auto row = [&](const char* what, bool a, bool b) {
      std::cout << fmt::format("  {:<22} {:>6}\n", what, table[{a, b}]);
    };
    std::cout << "decided by both: " << v2.size() << "\n";
    row("both allow", false, false);
    row("both block", true, true);
    row("v1 block, v2 allow", true, false);
    row("v1 allow, v2 block", false, true);
    for (const auto& id : differ) {
      const auto& t = seen[id];
      std::cout << fmt::format("  {} (customer {}, {} from {}): v1 {}, v2 {}\n", id, t.customer,
                               t.amount, t.country, v1[id] ? "block" : "allow",
                               v2[id] ? "block" : "allow");
    }
    std::set<std::string> v2_ids;
    for (const auto& [id, blocked] : v2) v2_ids.insert(id);
    const bool exact = !by_time || v2_ids == after_from;
    std::cout << (exact ? "v2 decided exactly the transactions from its start"
                        : "v2 did NOT decide exactly the transactions from its start")
              << "\n";
    return exact ? 0 : 1;
  });
}
