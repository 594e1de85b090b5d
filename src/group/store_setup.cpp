// Creates and checks the changelog topics of an agent's state stores, and
// locks their directory.

#include "src/group/store_setup.hpp"

#include <algorithm>

#include "actors/request_table.hpp"
#include "actors/timer_table.hpp"
#include "src/group/consumer_group.hpp"
#include "src/group/task_stores.hpp"
#include "src/kafka/admin.hpp"

namespace kactor::detail {

std::optional<std::string> co_partitioning_error(const std::vector<std::string>& topics,
                                                 const std::map<std::string, int>& counts) {
  const auto first = counts.find(topics.front());
  std::string listed;
  bool differ = first == counts.end();
  for (const auto& t : topics) {
    const auto it = counts.find(t);
    differ = differ || it == counts.end() || it->second != first->second;
    listed += (listed.empty() ? "" : ", ") + t + " has " +
              (it == counts.end() ? std::string("no partitions (it does not exist)")
                                  : std::to_string(it->second) + " partition(s)");
  }
  if (!differ) return std::nullopt;
  return "the input topics of an agent with state stores must be co-partitioned (the same "
         "partition count: partition p of each belongs to one task, with its stores): " +
         listed;
}

std::string timer_topic(const agent_config& cfg) {
  return consumer_group::group_id(cfg) + "-timers";
}

std::string reply_topic(const agent_config& cfg) {
  return cfg.reply_topic.empty() ? cfg.name + ".replies" : cfg.reply_topic;
}

void add_internal_parts(agent_config& cfg) {
  if (!cfg.timers && !cfg.requests) return;
  // kactor's inputs come after the agent's own (the actor tells them by lane).
  auto add_input = [&cfg](std::string topic, const char* key, const char* what) {
    if (std::find(cfg.topics.begin(), cfg.topics.end(), topic) != cfg.topics.end())
      throw config_error("agents." + cfg.name + "." + key,
                         "'" + topic + "' is " + what +
                             " and also one of the agent's topics; kactor consumes it itself");
    cfg.topics.push_back(std::move(topic));
  };
  cfg.stores.emplace_back(timer_store_name);
  add_input(timer_topic(cfg), "topics", "the agent's internal timers topic");
  if (!cfg.requests) return;
  cfg.stores.emplace_back(request_store_name);
  add_input(reply_topic(cfg), "reply_topic", "where replies to the agent's requests come");
}

namespace {

/// Creates `topic` with `partitions`, on the embedded cluster or the broker.
void create_topic(rd_kafka_t* rk, rd_kafka_mock_cluster_t* mock, const std::string& key,
                  const std::string& topic, int partitions, const std::string& what,
                  const std::map<std::string, std::string>& configs) {
  if (mock) {
    if (auto err = rd_kafka_mock_topic_create(mock, topic.c_str(), partitions, 1);
        err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      throw config_error(key,
                         "cannot create " + what + " '" + topic + "': " + rd_kafka_err2str(err));
    return;
  }
  try {
    create_topics(rk, {{topic, partitions}}, 30000, configs);
  } catch (const kafka_exception& e) {
    if (e.info().cls == error_class::retriable) throw;
    throw config_error(key, "cannot create " + what + " '" + topic + "': " + e.what());
  }
}

}  // namespace

void prepare_changelogs(rd_kafka_t* rk, rd_kafka_mock_cluster_t* mock, const agent_config& cfg,
                        std::map<std::string, int>& counts) {
  if (cfg.stores.empty()) return;
  const auto key = "agents." + cfg.name + ".stores";
  if (cfg.topics.size() > max_task_inputs)
    throw config_error(key, "an agent with state stores consumes at most " +
                                std::to_string(max_task_inputs) + " topics (" +
                                std::to_string(cfg.topics.size()) + " given)");
  const auto& input = cfg.topics.front();
  const auto in = counts.find(input);
  if (in == counts.end())
    throw config_error(key, "input topic '" + input +
                                "' does not exist; an agent with state stores needs it to size "
                                "its changelog topics (create it first)");
  if (cfg.timers || cfg.requests) {
    std::vector<std::string> internal{timer_topic(cfg)};
    if (cfg.requests) internal.push_back(reply_topic(cfg));
    for (const auto& topic : internal)
      if (!counts.count(topic)) {
        create_topic(rk, mock, "agents." + cfg.name + (cfg.requests ? ".requests" : ".timers"),
                     topic, in->second, "topic", {});
        counts[topic] = in->second;
      }
  }
  if (auto why = co_partitioning_error(cfg.topics, counts))
    throw config_error("agents." + cfg.name + ".topics", *why);
  const auto group = consumer_group::group_id(cfg);
  for (const auto& store : cfg.stores) {
    const auto topic = store_layout::changelog_topic(group, store);
    const auto it = counts.find(topic);
    if (it == counts.end()) {
      create_topic(rk, mock, key, topic, in->second, "changelog topic",
                   {{"cleanup.policy", "compact"}});
      continue;
    }
    if (it->second != in->second)
      throw config_error(key, "changelog topic '" + topic + "' has " + std::to_string(it->second) +
                                  " partition(s), input topic '" + input + "' " +
                                  std::to_string(in->second) +
                                  "; they must match (each partition's store is restored from "
                                  "the changelog partition of the same number)");
    if (!mock) {
      const auto policy = topic_config(rk, topic, "cleanup.policy");
      if (policy.find("compact") == std::string::npos)
        throw config_error(key, "changelog topic '" + topic + "' has cleanup.policy=" + policy +
                                    "; a changelog must be compacted (cleanup.policy=compact), "
                                    "or deleting old records loses state");
    }
  }
}

std::shared_ptr<const store_layout> make_store_layout(const agent_config& cfg,
                                                      const std::string& state_dir,
                                                      std::shared_ptr<const store_memory> memory,
                                                      int partitions) {
  if (cfg.stores.empty()) return nullptr;
  auto layout = std::make_shared<store_layout>();
  layout->agent = cfg.name;
  layout->group = consumer_group::group_id(cfg);
  layout->root = state_dir + "/" + layout->group;
  layout->stores = cfg.stores;
  layout->transactional = cfg.guarantee == processing_guarantee::exactly_once;
  layout->write_buffer_bytes = memory->write_buffer_for(
      static_cast<std::size_t>(std::max(partitions, 1)) * cfg.stores.size());
  layout->memory = std::move(memory);
  try {
    layout->lock = std::make_shared<dir_lock>(layout->root);
  } catch (const store_error& e) {
    throw config_error("state_dir", e.what());
  }
  return layout;
}

}  // namespace kactor::detail
