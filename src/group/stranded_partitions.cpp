#include "src/group/stranded_partitions.hpp"

#include <exception>
#include <set>

#include <kactor/log.hpp>

#include "src/kafka/admin.hpp"

namespace kactor::detail {

std::vector<topic_partition> stranded_partitions(const group_members& group,
                                                 const std::map<std::string, int>& topics) {
  if (group.state != "Stable" || group.members.empty()) return {};
  std::set<topic_partition> held;
  for (const auto& m : group.members) {
    held.insert(m.owned.begin(), m.owned.end());
    held.insert(m.assigned.begin(), m.assigned.end());
  }
  std::vector<topic_partition> out;
  for (const auto& [topic, count] : topics)
    for (std::int32_t p = 0; p < count; ++p)
      if (topic_partition tp{topic, partition_id{p}}; !held.count(tp)) out.push_back(tp);
  return out;
}

stranded_partition_watch::stranded_partition_watch(std::string agent, std::string group,
                                                   property_list props,
                                                   std::vector<std::string> topics)
    : agent_(std::move(agent)),
      group_(std::move(group)),
      props_(std::move(props)),
      topics_(std::move(topics)),
      thread_([this] { run(); }) {}

void stranded_partition_watch::request_stop() {
  {
    std::lock_guard lock(mx_);
    stop_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
}

stranded_partition_watch::~stranded_partition_watch() {
  request_stop();
  thread_.join();
}

bool stranded_partition_watch::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mx_);
  return !cv_.wait_for(lock, d, [this] { return stop_.load(std::memory_order_acquire); });
}

namespace {

std::string names(const std::vector<topic_partition>& tps) {
  std::string out;
  for (const auto& tp : tps) out += (out.empty() ? "" : ", ") + to_string(tp);
  return out;
}

}  // namespace

void stranded_partition_watch::run() {
  constexpr int max_forced = 3, timeout_ms = 2000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  int forced = 0;
  try {
    // Never subscribes, so never joins: it only asks.
    auto client = make_client(RD_KAFKA_CONSUMER, make_conf(props_));
    while (!stop_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
      const auto group = describe_group_members(client.get(), group_, timeout_ms);
      if (!group) return;
      if (group->state != "Stable") {
        pause(std::chrono::milliseconds(500));  // the rebalance under way assigns them
        continue;
      }
      std::map<std::string, int> counts;
      const auto all = partition_counts(client.get(), timeout_ms);
      for (const auto& t : topics_)
        if (auto it = all.find(t); it != all.end()) counts.insert(*it);
      const auto lost = stranded_partitions(*group, counts);
      if (lost.empty()) {
        if (forced > 0)
          log_about(log_level::info, {agent_}, "group {}: every partition has a member again",
                    group_);
        return;
      }
      if (forced == max_forced) {
        log_about(log_level::error, {agent_},
                  "group {}: partitions {} still have no member after {} forced rebalances", group_,
                  names(lost), forced);
        return;
      }
      log_about(log_level::warn, {agent_},
                "group {} is stable but assigns {} to no member (a static member stopped inside "
                "a cooperative rebalance and rejoined within its session): forcing a rebalance",
                group_, names(lost));
      force_rebalance();
      ++forced;
    }
  } catch (const std::exception& e) {  // kafka_exception, mostly
    log_about(log_level::warn, {agent_}, "group {}: cannot look for stranded partitions: {}",
              group_, e.what());
  }
}

namespace {

/// The forcing member's rebalance callback: it takes what it is given, so
/// that librdkafka goes on, and notes that the rebalance happened.
void on_forcing_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void* opaque) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    error_ptr{rd_kafka_incremental_assign(rk, parts)};
    static_cast<std::atomic<bool>*>(opaque)->store(true, std::memory_order_release);
  } else {
    error_ptr{rd_kafka_incremental_unassign(rk, parts)};
  }
}

}  // namespace

void stranded_partition_watch::force_rebalance() {
  std::atomic<bool> assigned{false};
  auto props = props_;
  props.push_back({"", "client.id", "kactor-" + agent_ + "-rebalance"});
  props.push_back({"", "enable.auto.commit", "false"});
  auto conf = make_conf(props);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &on_forcing_rebalance);
  rd_kafka_conf_set_opaque(conf.get(), &assigned);
  auto rk = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk.get());
  auto topics = make_tpl(static_cast<int>(topics_.size()));
  for (const auto& t : topics_)
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(rk.get(), topics.get()))
    throw kafka_exception(make_error(err, "group " + group_ + ": subscribe to force a rebalance"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!assigned.load(std::memory_order_acquire) && !stop_.load(std::memory_order_acquire) &&
         std::chrono::steady_clock::now() < deadline)
    message_ptr{rd_kafka_consumer_poll(rk.get(), 100)};
  // A dynamic member: its close revokes what it was given, commits nothing
  // and leaves the group, which rebalances again without it.
  rd_kafka_consumer_close(rk.get());
}

}  // namespace kactor::detail
