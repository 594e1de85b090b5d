#include <kactor/config.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "src/config/fields.hpp"
#include "src/config/listen.hpp"
#include "src/config/yaml.hpp"

namespace kactor {

using namespace detail;

namespace {

// `rest` is "<name>.<field>"; the agent is created if absent, and `cfg` is untouched on error.
void override_agent(runtime_config& cfg, const std::string& rest, const std::string& value,
                    const std::string& key) {
  const auto [name, field] = split_first_dot(rest);
  if (name.empty()) throw config_error(key, "unknown key; allowed: " + join(override_keys()));
  const auto it = std::find_if(cfg.agents.begin(), cfg.agents.end(),
                               [&name = name](const agent_config& a) { return a.name == name; });
  agent_config agent = it != cfg.agents.end() ? *it : agent_config{};
  agent.name = name;
  const auto [head, property] = split_first_dot(field);
  if (head == "kafka" && !property.empty()) {
    agent.kafka[property] = value;
  } else if (head == "supervision" && !property.empty()) {
    if (!set_scalar(agent.supervision, property, value, key))
      throw config_error(key, "unknown key; allowed: " + join(supervision_keys()));
  } else if (field == "topics" || field == "produces" || field == "stores") {
    auto& topics = field == "topics"     ? agent.topics
                   : field == "produces" ? agent.produces
                                         : agent.stores;
    topics.clear();
    std::istringstream list(value);
    for (std::string topic; std::getline(list, topic, ',');) topics.push_back(topic);
  } else if (!set_scalar(agent, field, value, key)) {
    throw config_error(key, "unknown key; allowed: " + join(agent_override_keys()));
  }
  if (it != cfg.agents.end()) {
    *it = std::move(agent);
  } else {
    cfg.agents.push_back(std::move(agent));
  }
}

void check_supervision(const supervision_policy& policy, const std::vector<std::string>& topics,
                       const std::string& path) {
  check_ranges(policy, path);
  if (policy.backoff_base > policy.backoff_max)
    throw invalid(path + ".backoff_base_ms", std::to_string(policy.backoff_base.count()),
                  "integers 1.." + std::to_string(policy.backoff_max.count()) +
                      " (must not exceed backoff_max_ms)");
  if (!policy.dlq_topic.empty() &&
      std::find(topics.begin(), topics.end(), policy.dlq_topic) != topics.end())
    throw invalid(path + ".dlq_topic", policy.dlq_topic,
                  "any topic but the agent's input topics (" + join(topics) +
                      "); a DLQ that is also an input would loop records forever");
}

}  // namespace

runtime_config load_config(const std::string& path) {
  std::ifstream in(path);
  in.peek();  // surfaces read errors (a directory, EIO) that copying the buffer would swallow
  if (!in.is_open() || in.bad())
    throw config_error("config", path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_yaml(text.str(), path + ": ");
}

runtime_config parse_config(const std::string& yaml) {
  return parse_yaml(yaml, "");
}

void apply_override(runtime_config& cfg, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) throw config_error(assignment, "expected key=value");
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  const auto [head, rest] = split_first_dot(key);
  properties* props = property_map(cfg, head);
  if (head == "agents" && !rest.empty()) {
    override_agent(cfg, rest, value, key);
  } else if (head == "log" && set_scalar(cfg.log, rest, value, key)) {
  } else if (head == "metrics" && set_scalar(cfg.metrics, rest, value, key)) {
  } else if (props && !rest.empty()) {
    (*props)[rest] = value;
  } else if (!(rest.empty() && set_scalar(cfg, key, value, key))) {
    throw config_error(key, "unknown key; allowed: " + join(override_keys()));
  }
}

namespace {
void check_agent(const agent_config& cfg, const std::string& where, bool need_topics);
}  // namespace

void validate(const runtime_config& cfg) {
  check_ranges(cfg, "");
  if (cfg.state_dir.empty())
    throw config_error("state_dir", "must not be empty (the default is kactor-state)");
  check_properties(cfg.kafka, "kafka");
  check_properties(cfg.consumer, "consumer");
  check_properties(cfg.producer, "producer");
  if (!cfg.metrics.listen.empty() && !parse_listen(cfg.metrics.listen))
    throw invalid("metrics.listen", cfg.metrics.listen,
                  "PORT or HOST:PORT, the port 0..65535 (0: any free port)");
  for (std::size_t i = 0; i < cfg.agents.size(); ++i) {
    const std::string where = "agents[" + std::to_string(i) + "]";
    // A file's agent may leave its topics to the code (`consume`); the
    // runtime checks the composed agent at start.
    check_agent(cfg.agents[i], where, false);
    for (std::size_t j = 0; j < i; ++j)
      if (cfg.agents[j].name == cfg.agents[i].name)
        throw config_error(where + ".name", "duplicate agent name '" + cfg.agents[i].name +
                                                "' (also agents[" + std::to_string(j) + "])");
  }
}

void validate(const agent_config& cfg, const std::string& where) {
  check_agent(cfg, where, true);
}

namespace {

void check_agent(const agent_config& cfg, const std::string& where, bool need_topics) {
  if (cfg.name.empty()) throw config_error(where + ".name", "required, must not be empty");
  if (need_topics && cfg.topics.empty())
    throw config_error(where + ".topics",
                       "at least one topic required (in the file, or in code with .consume())");
  if (std::find(cfg.topics.begin(), cfg.topics.end(), "") != cfg.topics.end())
    throw config_error(where + ".topics", "topic names must not be empty");
  if (std::find(cfg.produces.begin(), cfg.produces.end(), "") != cfg.produces.end())
    throw config_error(where + ".produces", "topic names must not be empty");
  for (std::size_t i = 0; i < cfg.stores.size(); ++i) {
    const auto& s = cfg.stores[i];
    const bool valid = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!valid) throw invalid(where + ".stores", s, "names of letters, digits, '.', '_' and '-'");
    if (s.rfind("kactor.", 0) == 0)
      throw invalid(where + ".stores", s,
                    "names that do not start with 'kactor.' (kactor's own stores: timers, "
                    "requests)");
    if (std::find(cfg.stores.begin(), cfg.stores.begin() + i, s) != cfg.stores.begin() + i)
      throw config_error(where + ".stores", "store '" + s + "' is declared twice");
  }
  check_ranges(cfg, where);
  if (cfg.resume_below > cfg.max_poll_records)
    throw invalid(where + ".resume_below", std::to_string(cfg.resume_below),
                  "integers 0.." + std::to_string(cfg.max_poll_records) + " (max_poll_records)");
  check_properties(cfg.kafka, where + ".kafka");
  check_supervision(cfg.supervision, cfg.topics, where + ".supervision");
}

}  // namespace

}  // namespace kactor
