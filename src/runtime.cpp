#include <kactor/runtime.hpp>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <stdexcept>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <caf/all.hpp>
#include <kactor/log.hpp>

#include "actors/errc.hpp"
#include "actors/in_flight_budget.hpp"
#include "src/group/consumer_group.hpp"
#include "src/group/ports.hpp"
#include "src/group/store_setup.hpp"
#include "src/group/topic_checks.hpp"
#include "src/kafka/admin.hpp"
#include "src/kafka/handles.hpp"
#include "src/kafka/prefetch_budget.hpp"
#include "src/kafka/producer.hpp"
#include "src/ops/http_endpoint.hpp"

namespace kactor {

using namespace detail;

namespace {

volatile std::sig_atomic_t g_signal = 0;

/// Keeps the first of each topic named more than once (a file may list one twice).
void collapse_duplicates(std::vector<std::string>& topics) {
  std::vector<std::string> out;
  for (auto& t : topics)
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
  topics = std::move(out);
}

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
}

}  // namespace

struct runtime::impl {
  runtime_config cfg;
  std::vector<agent_definition> agents;
  /// Per agent (same index): whether code replaced the file's topic lists.
  struct code_lists {
    bool topics = false;
    bool produces = false;
    bool stores = false;
  };
  std::vector<code_lists> from_code;
  handle_ptr mock_owner;  // keeps the embedded cluster alive
  rd_kafka_mock_cluster_t* mock = nullptr;
  std::string bootstrap;
  caf::actor_system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<shared_producer> producer;
  std::vector<std::unique_ptr<consumer_group>> groups;
  /// metrics.listen: serves while the runtime runs (from start to stop).
  std::unique_ptr<http_endpoint> endpoint;
  std::mutex mx;
  std::condition_variable cv;
  bool stop_requested = false;
  /// An agent with on_escalation: exit escalated (run_until_signal returns
  /// escalation_exit_code).
  std::atomic<bool> escalation_exit{false};
  bool started = false;
  bool stopped = false;
  bool flushed_at_stop = false;

  /// kactor's settings, then `defaults` (which the user's properties override).
  property_list client_props(const std::map<std::string, std::string>& role_props,
                             const std::string& role, const property_list& defaults = {}) const {
    property_list props{{"", "bootstrap.servers", bootstrap}, {"", "client.id", cfg.client_id}};
    props.insert(props.end(), defaults.begin(), defaults.end());
    append(props, "kafka", cfg.kafka);
    append(props, role, role_props);
    return props;
  }

  agent_definition& find_or_add(const std::string& name) {
    for (auto& a : agents)
      if (a.cfg.name == name) return a;
    agent_definition def;
    def.cfg.name = name;
    for (const auto& a : cfg.agents)
      if (a.name == name) def.cfg = a;
    agents.push_back(std::move(def));
    from_code.emplace_back();
    return agents.back();
  }
};

runtime::runtime(runtime_config cfg) : impl_(std::make_unique<impl>()) {
  auto& d = *impl_;
  d.cfg = std::move(cfg);
  validate(d.cfg);
  configure_log(d.cfg.log);
  if (d.cfg.brokers.empty()) {
    // librdkafka's mock cluster lives inside a client handle; this one exists
    // only to own it.
    property_list props{{"", "test.mock.num.brokers", "1"}, {"", "log_level", "3"}};
    d.mock_owner = make_client(RD_KAFKA_PRODUCER, make_conf(props));
    d.mock = rd_kafka_handle_mock_cluster(d.mock_owner.get());
    d.bootstrap = rd_kafka_mock_cluster_bootstraps(d.mock);
  } else {
    d.bootstrap = d.cfg.brokers;
  }
  if (d.cfg.worker_threads > 0) d.sys_cfg.set("scheduler.max-threads", d.cfg.worker_threads);
  // CAF 0.17 lets an actor run as long as its mailbox has messages. A partition
  // actor with a backlog always has one (its next slice, sent to itself), so
  // it kept its worker until its partition ran dry while others starved
  // (their lag grew; under exactly_once one partition finished seconds after
  // the rest). One message per turn: after each slice the actor goes to the
  // back of its worker's queue.
  d.sys_cfg.set("scheduler.max-throughput", std::size_t{1});
  // An idle CAF 0.17 worker polls its queue 500 times with a 50 us sleep
  // each before it waits on its condition variable: ~25 ms and 1000 context
  // switches per idle stretch, which a worker waiting on the broker (many
  // partitions, few records each) has over and over. Ten such polls, then
  // the wait; its timeout, after which the worker tries to steal (jobs an
  // actor enqueues on its own worker wake no other), goes from 10 ms to 1 ms.
  // At 256 partitions CPU per record fell 3-23 % (benchmarks/RESULTS.md,
  // 2026-12-02).
  d.sys_cfg.set("work-stealing.moderate-poll-attempts", std::size_t{10});
  d.sys_cfg.set("work-stealing.relaxed-sleep-duration",
                caf::timespan{std::chrono::milliseconds(1)});
  d.sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  // (CAF 0.17.6's add_error_category<T> does not compile: its renderer has
  // the old signature.)
  d.sys_cfg.add_error_category(
      caf::atom("kactor"), [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
        return std::string("kactor: ") + to_string(static_cast<kactor::errc>(code)) +
               (ctx.empty() ? std::string() : " " + caf::to_string(ctx));
      });
  d.sys = std::make_unique<caf::actor_system>(d.sys_cfg);
  auto props = d.client_props(d.cfg.producer, "producer");
  d.producer = std::make_unique<shared_producer>(std::move(props), &report_to_tracker);
}

runtime::~runtime() {
  stop();
}

agent_builder runtime::agent(const std::string& name) {
  if (impl_->started)
    throw std::logic_error("runtime::agent(\"" + name +
                           "\") after runtime::start: agents are defined before start");
  auto& def = impl_->find_or_add(name);
  return agent_builder(*this, static_cast<std::size_t>(&def - impl_->agents.data()));
}

void runtime::create_topic(const std::string& name, int partitions) {
  if (partitions < 1) throw config_error("topic " + name, "partitions must be at least 1");
  if (impl_->mock) {
    auto err = rd_kafka_mock_topic_create(impl_->mock, name.c_str(), partitions, 1);
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      throw kafka_exception(make_error(err, "create topic " + name));
    return;
  }
  try {
    check_brokers(impl_->producer->handle(), impl_->bootstrap);
    create_topics(impl_->producer->handle(), {{name, partitions}});
  } catch (const kafka_exception& e) {
    auto info = e.info();
    info.message = "create topic " + name + " on " + impl_->bootstrap + ": " + info.message;
    throw kafka_exception(std::move(info));
  }
}

void runtime::emit(std::string_view topic, std::string_view key, std::string_view value,
                   const headers& hdrs) {
  if (impl_->stopped)
    throw std::logic_error("runtime::emit to " + std::string(topic) +
                           " after runtime::stop: the producer is closed");
  impl_->producer->produce(topic, partition_id{-1}, key, value, hdrs, nullptr);
}

bool runtime::flush(std::chrono::milliseconds timeout) {
  if (impl_->stopped) return impl_->flushed_at_stop;
  return impl_->producer->flush(timeout);
}

void runtime::start() {
  auto& d = *impl_;
  if (d.started) return;
  for (std::size_t i = 0; i < d.agents.size(); ++i) {
    auto& a = d.agents[i];
    collapse_duplicates(a.cfg.topics);
    collapse_duplicates(a.cfg.produces);
    collapse_duplicates(a.cfg.stores);
    validate(a.cfg, "agents." + a.cfg.name);
    if (!a.factory)
      throw config_error("agents." + a.cfg.name,
                         "the agent has no behaviour; define it in code with .behavior() or .on()");
    if (d.mock && a.cfg.guarantee == processing_guarantee::exactly_once)
      throw config_error("agents." + a.cfg.name + ".processing_guarantee",
                         "exactly_once needs a real Kafka broker (set brokers): librdkafka's "
                         "embedded mock cluster writes no transaction markers and stores no "
                         "transactional offsets, so it cannot honour it");
    const auto dlq = consumer_group::dlq_topic(a.cfg);
    if (std::find(a.cfg.topics.begin(), a.cfg.topics.end(), dlq) != a.cfg.topics.end())
      throw config_error("agents." + a.cfg.name + ".supervision.dlq_topic",
                         "'" + dlq + "' is also an input topic; records would loop forever");
    add_internal_parts(a.cfg);
  }
  for (const auto& c : d.cfg.agents) {
    bool defined = false;
    for (const auto& a : d.agents) defined = defined || a.cfg.name == c.name;
    if (!defined)
      throw config_error("agents." + c.name,
                         "configured, but no agent of that name is defined in code");
  }
  if (!d.mock) {
    check_brokers(d.client_props(d.cfg.producer, "producer"), d.bootstrap);
    check_outputs(d.producer->handle(), d.agents);
  }
  const property_list consumer_defaults{
      // A resumed partition waits for the broker's in-flight fetch; keep that short.
      {"", "fetch.wait.max.ms", "100"},
      // librdkafka's prefetch per partition (queued.max.messages.kbytes, at
      // most 4096, and queued.min.messages), max.partition.fetch.bytes and
      // fetch.max.bytes come from the agent's prefetch budget, below. A queue
      // at either limit is not fetched for up to a second (librdkafka #2879):
      // a fixed 10000-record limit was reached by most transaction commits
      // and producer-bound stretches (docs/exactly_once.md, "Performance"),
      // so the limits scale with each partition's share instead.
      {"", "auto.offset.reset", "earliest"}};
  // Each agent's prefetch budget is divided over the partitions of its topics.
  auto counts = partition_counts(d.producer->handle());
  std::shared_ptr<const store_memory> memory;
  for (std::size_t i = 0; i < d.agents.size(); ++i) {
    if (!d.agents[i].cfg.stores.empty() && !memory)
      memory = std::make_shared<store_memory>(d.cfg.state_memory_mb << 20);
    prepare_changelogs(d.producer->handle(), d.mock, d.agents[i].cfg, counts);
  }
  for (std::size_t i = 0; i < d.agents.size(); ++i) {
    int partitions = 0;
    for (const auto& t : d.agents[i].cfg.topics)
      if (auto it = counts.find(t); it != counts.end()) partitions += it->second;
    // An eighth bounds the records the actors hold (`in_flight_budget`,
    // divided by the group over the tasks it holds); librdkafka gets the rest.
    const auto budget = static_cast<std::uint64_t>(d.agents[i].cfg.prefetch_budget_mb) << 20;
    const auto limits = divide_prefetch_budget(budget - in_flight_part(budget), partitions);
    auto defaults = consumer_defaults;
    defaults.push_back(
        {"", "queued.max.messages.kbytes", std::to_string(limits.queued_max_kbytes)});
    defaults.push_back(
        {"", "max.partition.fetch.bytes", std::to_string(limits.max_partition_fetch_bytes)});
    defaults.push_back({"", "fetch.max.bytes", std::to_string(limits.fetch_max_bytes)});
    defaults.push_back({"", "queued.min.messages", std::to_string(limits.queued_max_records)});
    d.agents[i].fetch_slots = static_cast<std::size_t>(limits.fetch_slots);
    d.agents[i].fetch_queue_bytes = limits.queue_bytes;
    d.groups.push_back(std::make_unique<consumer_group>(
        *d.sys, d.agents[i], d.client_props(d.cfg.consumer, "consumer", defaults), *d.producer,
        d.client_props(d.cfg.producer, "producer"), d.cfg.commit_interval,
        make_store_layout(d.agents[i].cfg, d.cfg.state_dir, memory, partitions)));
    if (d.agents[i].cfg.supervision.on_escalation == supervision_policy::escalation_action::exit)
      d.groups.back()->on_escalation([this, agent = d.agents[i].cfg.name] {
        if (!impl_->escalation_exit.exchange(true))
          log_about(log_level::error, {agent},
                    "escalated with on_escalation: exit: stopping the runtime (exit code {})",
                    escalation_exit_code);
        request_stop();
      });
    if (!d.mock) {
      // Through the consumer, which never creates a topic by asking for it.
      auto missing = d.groups.back()->missing_topics();
      check_inputs(d.agents[i].cfg, missing);
      d.groups.back()->watch_missing_topics(std::move(missing));
    }
  }
  if (!d.cfg.metrics.listen.empty())
    d.endpoint = std::make_unique<http_endpoint>(d.cfg.metrics.listen, [this] { return stats(); });
  for (auto& g : d.groups) g->start();
  d.started = true;
}

int runtime::metrics_port() const {
  return impl_->endpoint ? impl_->endpoint->port() : 0;
}

void runtime::stop() {
  auto& d = *impl_;
  if (d.stopped) return;
  d.stopped = true;
  // All agents stop at once: each may wait for its group's rebalance.
  for (auto& g : d.groups) g->request_stop();
  for (auto& g : d.groups) g->stop();
  d.flushed_at_stop = d.producer->flush(std::chrono::seconds(30));
  if (!d.flushed_at_stop)
    log(log_level::error, "producer: records still unacknowledged after 30 s at shutdown");
  d.sys->await_all_actors_done();
  // Closed, not destroyed: the consumer groups read its counters for stats().
  d.producer->close();
  d.endpoint.reset();
}

void runtime::request_stop() {
  {
    std::lock_guard lock(impl_->mx);
    impl_->stop_requested = true;
  }
  impl_->cv.notify_all();
}

bool runtime::wait_for_stop_request(std::chrono::milliseconds timeout) {
  // A signal handler can only set a flag: look at it at least every 100 ms.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(impl_->mx);
  for (;;) {
    if (g_signal != 0) impl_->stop_requested = true;
    auto slice = std::min<std::chrono::steady_clock::duration>(
        deadline - std::chrono::steady_clock::now(), std::chrono::milliseconds(100));
    if (impl_->stop_requested || slice <= std::chrono::steady_clock::duration::zero())
      return impl_->stop_requested;
    impl_->cv.wait_for(lock, slice, [this] { return impl_->stop_requested; });
  }
}

bool runtime::run_until(const std::function<bool(const runtime_stats&)>& done,
                        std::chrono::milliseconds timeout) {
  start();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done(stats())) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) return false;
    if (wait_for_stop_request(std::min(left, std::chrono::milliseconds(10)))) return false;
  }
}

std::uint64_t runtime_stats::finished(const std::string& agent) const {
  std::uint64_t n = 0;
  for (const auto& a : agents)
    if (agent.empty() || a.name == agent)
      for (const auto& p : a.partitions) n += p.processed + p.failed;
  return n;
}

void runtime::stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int runtime::run_until_signal() {
  stop_on_signals();
  try {
    start();
  } catch (const std::exception& e) {
    log(log_level::error, "cannot start: {}", e.what());
    return 1;
  }
  while (!wait_for_stop_request(std::chrono::hours(24))) {
  }
  if (g_signal != 0) log(log_level::info, "signal {}: stopping", static_cast<int>(g_signal));
  stop();
  return impl_->escalation_exit ? escalation_exit_code : 0;
}

const std::string& runtime::bootstrap_servers() const {
  return impl_->bootstrap;
}

bool runtime::embedded() const {
  return impl_->mock != nullptr;
}

runtime_stats runtime::stats() const {
  runtime_stats s;
  for (const auto& g : impl_->groups) s.agents.push_back(g->stats());
  return s;
}

caf::actor_system& runtime::system() {
  return *impl_->sys;
}

// -- agent_builder -------------------------------------------------------------

agent_definition& agent_builder::def(const char* setter) const {
  auto& d = *rt_->impl_;
  if (d.started)
    throw std::logic_error(std::string("agent_builder::") + setter + " for agent " +
                           d.agents[index_].cfg.name +
                           " after runtime::start: the agent already runs as it was defined");
  return d.agents[index_];
}

namespace {

/// The first topic set in code replaces the file's list; later ones add to
/// it (a topic named twice collapses at start, as one the file lists twice).
void add_topic(std::vector<std::string>& list, bool& replaced, std::string topic) {
  if (!replaced) list.clear();
  replaced = true;
  list.push_back(std::move(topic));
}

/// A count set in code, refused at once below `min` (the upper bound is the
/// config table's, checked at start).
std::size_t count_setting(const agent_definition& d, const char* key, std::int64_t n,
                          std::int64_t min) {
  if (n < min)
    throw config_error(
        "agents." + d.cfg.name + "." + key,
        "invalid value '" + std::to_string(n) + "'; must be at least " + std::to_string(min));
  return static_cast<std::size_t>(n);
}

}  // namespace

agent_builder& agent_builder::consume(std::string topic) {
  auto& d = def("consume");
  add_topic(d.cfg.topics, rt_->impl_->from_code[index_].topics, std::move(topic));
  return *this;
}
agent_builder& agent_builder::produces(std::string topic) {
  auto& d = def("produces");
  add_topic(d.cfg.produces, rt_->impl_->from_code[index_].produces, std::move(topic));
  return *this;
}
agent_builder& agent_builder::store(std::string name) {
  auto& d = def("store");
  add_topic(d.cfg.stores, rt_->impl_->from_code[index_].stores, std::move(name));
  return *this;
}
agent_builder& agent_builder::timers() {
  def("timers").cfg.timers = true;
  return *this;
}
agent_builder& agent_builder::requests(std::string reply_topic) {
  auto& d = def("requests");
  d.cfg.requests = true;
  if (!reply_topic.empty()) d.cfg.reply_topic = std::move(reply_topic);
  return *this;
}
agent_builder& agent_builder::group(std::string group_id) {
  def("group").cfg.group = std::move(group_id);
  return *this;
}
agent_builder& agent_builder::start_from(std::chrono::system_clock::time_point t) {
  def("start_from").cfg.start_from = t;
  return *this;
}
agent_builder& agent_builder::max_poll_records(std::int64_t n) {
  auto& d = def("max_poll_records");
  d.cfg.max_poll_records = count_setting(d, "max_poll_records", n, 1);
  return *this;
}
agent_builder& agent_builder::resume_below(std::int64_t n) {
  auto& d = def("resume_below");
  d.cfg.resume_below = count_setting(d, "resume_below", n, 0);
  return *this;
}
agent_builder& agent_builder::pause_after(std::chrono::milliseconds d) {
  def("pause_after").cfg.pause_after = d;
  return *this;
}
agent_builder& agent_builder::prefetch_budget(std::size_t mb) {
  auto& d = def("prefetch_budget");
  d.cfg.prefetch_budget_mb =
      count_setting(d, "prefetch_budget_mb", static_cast<std::int64_t>(mb), 1);
  return *this;
}
agent_builder& agent_builder::assignor(assignor_kind a) {
  def("assignor").cfg.assignor = a;
  return *this;
}
agent_builder& agent_builder::static_member(std::string group_instance_id) {
  def("static_member").cfg.group_instance_id = std::move(group_instance_id);
  return *this;
}
agent_builder& agent_builder::supervision(supervision_policy policy) {
  def("supervision").cfg.supervision = std::move(policy);
  return *this;
}
agent_builder& agent_builder::exactly_once(std::chrono::milliseconds interval,
                                           std::size_t max_records) {
  auto& d = def("exactly_once");
  d.cfg.guarantee = processing_guarantee::exactly_once;
  d.cfg.transaction_interval = interval;
  d.cfg.transaction_max_records = max_records;
  return *this;
}
agent_builder& agent_builder::tick_every(std::chrono::milliseconds interval) {
  def("tick_every").tick_every = interval;
  return *this;
}
agent_builder& agent_builder::behavior(behavior_factory f) {
  def("behavior").factory = std::move(f);
  return *this;
}
agent_builder& agent_builder::on(record_handler h) {
  def("on").factory = [h = std::move(h)](context& ctx) -> caf::behavior {
    return {[h, &ctx](const event& e) { h(e, ctx); }};
  };
  return *this;
}

}  // namespace kactor
