// The coordinator of `kactor bench rebalance`: topic, feed, member
// processes, the change, and the wait for the group to settle.

#include "src/cli/rebalance_bench.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "src/cli/child_process.hpp"
#include "src/kafka/admin.hpp"
#include "src/kafka/steady_feeder.hpp"

namespace kactor::detail {

const char* to_string(rebalance_scenario s) {
  switch (s) {
    case rebalance_scenario::join:
      return "join";
    case rebalance_scenario::leave:
      return "leave";
    case rebalance_scenario::crash:
      return "crash";
    case rebalance_scenario::restart:
      return "restart";
  }
  return "?";
}

std::pair<int, int> parse_members(const std::string& spec) {
  const auto colon = spec.find(':');
  std::size_t used_a = 0, used_b = 0;
  int a = 0, b = 0;
  try {
    a = std::stoi(spec.substr(0, colon), &used_a);
    b = std::stoi(spec.substr(colon + 1), &used_b);
  } catch (const std::exception&) {
    used_a = 0;
  }
  if (colon == std::string::npos || used_a != colon || used_b != spec.size() - colon - 1 || a < 1 ||
      b < 1)
    throw bench_usage_error("--members: invalid value '" + spec +
                            "'; expected BEFORE:AFTER, two member counts of 1 or more (e.g. 1:2)");
  return {a, b};
}

std::pair<int, int> default_members(rebalance_scenario s) {
  switch (s) {
    case rebalance_scenario::join:
      return {1, 2};
    case rebalance_scenario::leave:
    case rebalance_scenario::crash:
      return {2, 1};
    case rebalance_scenario::restart:
      return {2, 2};
  }
  return {1, 2};
}

void validate(const rebalance_options& o) {
  const auto spec = std::to_string(o.members_before) + ":" + std::to_string(o.members_after);
  const auto scenario = std::string(to_string(o.scenario));
  switch (o.scenario) {
    case rebalance_scenario::join:
      if (o.members_after <= o.members_before)
        throw bench_usage_error("--members " + spec +
                                " does not fit --scenario join: join needs more members after "
                                "than before (e.g. 1:2)");
      break;
    case rebalance_scenario::leave:
    case rebalance_scenario::crash:
      if (o.members_after >= o.members_before)
        throw bench_usage_error("--members " + spec + " does not fit --scenario " + scenario +
                                ": " + scenario +
                                " needs fewer members after than before (e.g. 2:1)");
      break;
    case rebalance_scenario::restart:
      if (o.members_after != o.members_before)
        throw bench_usage_error("--members " + spec +
                                " does not fit --scenario restart: restart keeps the member "
                                "count (e.g. 2:2)");
      break;
  }
  if (std::max(o.members_before, o.members_after) > o.partitions)
    throw bench_usage_error("--members " + spec + ": more members than --partitions " +
                            std::to_string(o.partitions) + " leaves some with nothing to measure");
  if (o.partitions < 1 || o.rate < 1 || o.repetitions < 1)
    throw bench_usage_error("--partitions, --rate and --repetitions must be 1 or more");
  if (o.brokers.empty()) throw bench_usage_error("--brokers is required");
}

namespace {

/// A member process and the reader of its report file.
class member_process {
 public:
  member_process(int id, int slot, const rebalance_options& o, const std::string& dir,
                 const std::string& topic)
      : id_(id),
        report_(dir + "/member-" + std::to_string(id) + ".report"),
        log_(dir + "/member-" + std::to_string(id) + ".log") {
    auto argv = o.member_command;
    for (const auto& a : std::vector<std::string>{
             "--brokers", o.brokers, "--topic", topic, "--group", topic, "--report", report_,
             "--assignor", to_string(o.assignor), "--session-timeout-ms",
             std::to_string(o.session_timeout.count()), "--commit-interval-ms",
             std::to_string(o.commit_interval.count())})
      argv.push_back(a);
    if (o.static_members) {
      argv.push_back("--instance-id");
      argv.push_back(topic + "-member-" + std::to_string(slot));
    }
    if (o.produce) {
      argv.push_back("--emit-to");
      argv.push_back(topic + "-out");
    }
    for (const auto& [k, v] : o.consumer) {
      argv.push_back("--consumer");
      argv.push_back(k + "=" + v);
    }
    std::ofstream(report_, std::ios::trunc).flush();
    proc_ = std::make_unique<child_process>(argv, log_);
  }

  int id() const { return id_; }
  child_process& process() { return *proc_; }

  /// Appends the report's new complete lines to `tl`.
  void read_into(rebalance_timeline& tl) {
    std::ifstream in(report_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(read_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto end = chunk.rfind('\n');
    if (end == std::string::npos) return;
    read_ += end + 1;
    std::istringstream lines(chunk.substr(0, end + 1));
    for (std::string line; std::getline(lines, line);) parse(line, tl);
  }

  /// The last lines of the member's log, for an error message.
  std::string log_tail() const {
    std::ifstream in(log_);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    std::string out;
    for (auto i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i)
      out += "\n  " + lines[i];
    return "member " + std::to_string(id_) + "'s log " + log_ + (out.empty() ? " is empty" : ":") +
           out;
  }

 private:
  void parse(const std::string& line, rebalance_timeline& tl) const {
    std::istringstream in(line);
    std::string kind;
    in >> kind;
    if (kind == "r") {
      handled_record r;
      r.member = id_;
      in >> r.partition >> r.at;
      tl.records.push_back(r);
    } else if (kind == "s") {
      member_status s;
      s.member = id_;
      std::int64_t last_revoke_us = 0;
      std::string held;
      in >> s.at >> s.revocations >> last_revoke_us >> held;
      s.last_revoke_ms = static_cast<double>(last_revoke_us) / 1000.0;
      std::istringstream list(held == "-" ? std::string() : held);
      for (std::string item; std::getline(list, item, ',');) {
        const auto colon = item.find(':');
        s.held[std::stoi(item.substr(0, colon))] = std::stoull(item.substr(colon + 1));
      }
      tl.statuses.push_back(std::move(s));
    }
  }

  int id_;
  std::string report_, log_;
  std::size_t read_ = 0;
  std::unique_ptr<child_process> proc_;
};

std::string self_exe() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("kactor") : p.string();
}

std::string record_value(std::int64_t i) {
  std::string v = "record-" + std::to_string(i) + "-";
  v.resize(100, 'x');
  return v;
}

double ms_since(mono_ns from) {
  return static_cast<double>(mono_now() - from) / 1e6;
}

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}

/// One repetition, from a fresh topic to its members stopped.
class repetition {
 public:
  repetition(const rebalance_options& o, const std::string& dir, const std::string& name,
             const std::function<void(const std::string&)>& progress)
      : o_(o), dir_(dir), topic_(name), progress_(progress) {
    tl_.partitions = o.partitions;
  }

  rebalance_run run() {
    feeder_ =
        std::make_unique<steady_feeder>(o_.brokers, topic_, o_.partitions, o_.rate, &record_value);
    for (int slot = 1; slot <= o_.members_before; ++slot) start(slot, "");
    tl_.final_members = alive_;
    const auto started = mono_now();
    wait_for([&] { return group_settled(tl_); },
             "the group to settle with " + std::to_string(o_.members_before) + " member(s)");
    progress_("settled with " + std::to_string(o_.members_before) + " member(s) after " +
              fixed(ms_since(started)) + " ms; steady window of " +
              std::to_string(o_.steady.count()) + " ms");

    rebalance_run out;
    tl_.steady_from = mono_now();
    const double cpu_from = members_cpu();
    std::this_thread::sleep_for(o_.steady);  // the measured window itself, not a wait
    out.steady_cpu_ms = (members_cpu() - cpu_from) * 1e3;
    tl_.change = mono_now();
    change();
    tl_.final_members = alive_;
    wait_for([&] { return group_settled(tl_); },
             std::string("the group to settle after the ") + to_string(o_.scenario));
    tl_.observed = mono_now();
    tl_.settled = settle_time(tl_);
    tl_.events.push_back({tl_.settled, "settled"});
    // A gap still open at settle is measured to its end: one more record on
    // every partition that stayed.
    wait_for([&] { return unmoved_closed(tl_); },
             "a record after settle on every partition that did not move");
    // The picture shows the flow after settle: keep the members running.
    wait_for([&] { return mono_now() >= view_end(tl_); }, "the end of the picture");
    out.measures = measure(tl_);
    progress_("settled " + fixed(out.measures.settle_ms) +
              " ms after the change: " + std::to_string(out.measures.moved.size()) + " moved, " +
              std::to_string(out.measures.unmoved.size()) + " unmoved (" +
              std::to_string(out.measures.partitions_revoked) + " revoked)");
    stop_all();
    out.timeline = std::move(tl_);
    return out;
  }

  ~repetition() {
    for (auto& m : members_)
      if (m->process().running()) m->process().signal(SIGKILL);
  }

 private:
  void start(int slot, const std::string& why) {
    const int id = static_cast<int>(members_.size()) + 1;
    members_.push_back(std::make_unique<member_process>(id, slot, o_, dir_, topic_));
    slot_of_[id] = slot;
    alive_.insert(id);
    const auto label = "member " + std::to_string(id) + why;
    tl_.members.push_back({id, label});
    tl_.events.push_back({mono_now(), label + " starts"});
  }

  void end(int id, int sig, const std::string& what) {
    members_.at(static_cast<std::size_t>(id - 1))->process().signal(sig);
    alive_.erase(id);
    tl_.events.push_back({mono_now(), "member " + std::to_string(id) + " " + what});
    // A killed member reports nothing more: it holds nothing from now on.
    if (sig == SIGKILL) tl_.statuses.push_back({mono_now(), id, {}, 0, 0});
  }

  void change() {
    const int n = o_.members_before, m = o_.members_after;
    switch (o_.scenario) {
      case rebalance_scenario::join:
        for (int slot = n + 1; slot <= m; ++slot) start(slot, "");
        break;
      case rebalance_scenario::leave:
        for (int id = m + 1; id <= n; ++id) end(id, SIGTERM, "stopped (SIGTERM)");
        break;
      case rebalance_scenario::crash:
        for (int id = m + 1; id <= n; ++id) end(id, SIGKILL, "killed (SIGKILL)");
        break;
      case rebalance_scenario::restart:
        end(n, SIGKILL, "killed (SIGKILL)");
        start(slot_of_.at(n),
              " (restarted member " + std::to_string(n) + (o_.static_members ? ", same id)" : ")"));
        break;
    }
    progress_(std::string(to_string(o_.scenario)) + ": now " + std::to_string(alive_.size()) +
              " member(s)");
  }

  /// Reads every member's new report lines; throws when a member exited
  /// that was not told to.
  void pump() {
    for (auto& m : members_) {
      m->read_into(tl_);
      if (alive_.count(m->id()) && !m->process().running())
        throw std::runtime_error("member " + std::to_string(m->id()) + " exited with status " +
                                 std::to_string(m->process().status()) + "; " + m->log_tail());
    }
  }

  void wait_for(const std::function<bool()>& done, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + o_.timeout;
    // The members report through files every 5 ms: reading them is the wait.
    for (;;) {
      pump();
      if (done()) return;
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::string logs;
    for (auto& m : members_) logs += "\n" + m->log_tail();
    throw std::runtime_error("waited " + std::to_string(o_.timeout.count()) + " ms for " + what +
                             " on topic " + topic_ + "; the member logs are in " + dir_ + logs);
  }

  double members_cpu() const {
    double s = 0;
    for (int id : alive_)
      s += members_.at(static_cast<std::size_t>(id - 1))->process().cpu_seconds();
    return s;
  }

  void stop_all() {
    tl_.events.push_back({mono_now(), "members stop"});
    for (auto& m : members_)
      if (m->process().running()) m->process().signal(SIGTERM);
    for (auto& m : members_)
      if (m->process().wait(o_.timeout) == -1)
        throw std::runtime_error("member " + std::to_string(m->id()) + " did not stop within " +
                                 std::to_string(o_.timeout.count()) + " ms of SIGTERM; " +
                                 m->log_tail());
    for (auto& m : members_) m->read_into(tl_);
  }

  const rebalance_options& o_;
  std::string dir_, topic_;
  const std::function<void(const std::string&)>& progress_;
  rebalance_timeline tl_;
  std::unique_ptr<steady_feeder> feeder_;
  std::vector<std::unique_ptr<member_process>> members_;
  std::map<int, int> slot_of_;
  std::set<int> alive_;
};

std::string make_work_dir(const std::string& given) {
  if (!given.empty()) {
    std::filesystem::create_directories(given);
    return given;
  }
  std::string tmpl = "/tmp/kactor-bench-rebalance-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a directory under /tmp");
  return tmpl;
}

}  // namespace

rebalance_report run_rebalance_bench(const rebalance_options& given,
                                     const std::function<void(const std::string&)>& progress) {
  validate(given);
  rebalance_report report;
  report.options = given;
  auto& o = report.options;
  if (o.member_command.empty()) o.member_command = {self_exe(), "bench", "rebalance-member"};
  auto rk = make_client(RD_KAFKA_PRODUCER, make_conf({{"", "bootstrap.servers", o.brokers}}));
  check_brokers(rk.get(), o.brokers);
  const auto dir = make_work_dir(o.work_dir);
  for (int i = 1; i <= o.repetitions; ++i) {
    const auto topic = "kactor-bench-rebalance-" + std::to_string(mono_now());
    auto step = [&](const std::string& line) {
      progress("[" + std::to_string(i) + "/" + std::to_string(o.repetitions) + "] " + line);
    };
    std::vector<std::string> topics{topic};
    if (o.produce) topics.push_back(topic + "-out");
    std::vector<std::pair<std::string, int>> created;
    for (const auto& t : topics) created.emplace_back(t, o.partitions);
    create_topics(rk.get(), created);
    step("topic " + topic + (o.produce ? " (emitting to " + topic + "-out)" : "") + ", " +
         std::to_string(o.partitions) + " partitions fed at " + std::to_string(o.rate) +
         " records/s; starting " + std::to_string(o.members_before) + " member(s)");
    try {
      report.runs.push_back(repetition(o, dir, topic, step).run());
    } catch (...) {
      try {
        delete_topics(rk.get(), topics);
      } catch (const std::exception&) {
        // The repetition's own error is the one to report.
      }
      throw;
    }
    delete_topics(rk.get(), topics);
  }
  if (o.work_dir.empty()) std::filesystem::remove_all(dir);
  return report;
}

}  // namespace kactor::detail
