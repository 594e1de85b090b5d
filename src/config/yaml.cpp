#include "src/config/yaml.hpp"

#include <yaml-cpp/yaml.h>

#include "src/config/fields.hpp"

namespace kactor::detail {
namespace {

using entry_list = std::vector<std::pair<std::string, YAML::Node>>;

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

config_error expected(const std::string& key, const std::string& what, const YAML::Node& got) {
  return config_error(key, "expected " + what + ", got " + describe(got));
}

std::string scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) throw expected(key, "a scalar value", node);
  return node.Scalar();
}

// A map's entries in order; an empty value (`kafka:` with all lines commented out) is an empty
// map. yaml-cpp keeps duplicate keys, so they are rejected here.
entry_list entries(const YAML::Node& node, const std::string& path) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) throw expected(path.empty() ? "config" : path, "a map", node);
  entry_list out;
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    for (const auto& seen : out)
      if (seen.first == name) throw config_error(key_of(path, name), "duplicate key");
    out.emplace_back(name, entry.second);
  }
  return out;
}

void read_properties(const YAML::Node& node, const std::string& path, properties& props) {
  for (const auto& [name, value] : entries(node, path)) {
    const std::string text = scalar(value, path + "." + name);
    // Plain YAML booleans (yes, on, True, ...) become the "true"/"false" librdkafka accepts;
    // quoted values stay as written.
    bool flag = false;
    const bool is_bool = value.Tag() == "?" && YAML::convert<bool>::decode(value, flag);
    props[name] = is_bool ? (flag ? "true" : "false") : text;
  }
}

// A name or a sequence of names (`what`: "topic", "store").
std::vector<std::string> read_names(const YAML::Node& node, const std::string& key,
                                    const char* what) {
  if (node.IsScalar()) return {node.Scalar()};
  if (!node.IsSequence())
    throw expected(key, std::string("a ") + what + " name or a sequence of them", node);
  std::vector<std::string> topics;
  for (std::size_t i = 0; i < node.size(); ++i)
    topics.push_back(scalar(node[i], key + "[" + std::to_string(i) + "]"));
  return topics;
}

// A map of scalars only (`supervision`, `log`), read through its table.
template <class C>
C read_scalars(const YAML::Node& node, const std::string& path,
               const std::vector<std::string>& allowed) {
  C out;
  for (const auto& [name, value] : entries(node, path)) {
    const std::string key = path + "." + name;
    require_known(name, key, allowed);
    set_scalar(out, name, scalar(value, key), key);
  }
  return out;
}

agent_config read_agent(const YAML::Node& node, const std::string& path) {
  agent_config agent;
  for (const auto& [name, value] : entries(node, path)) {
    const std::string key = path + "." + name;
    require_known(name, key, agent_keys());
    if (name == "name") {
      agent.name = scalar(value, key);
    } else if (name == "topics") {
      agent.topics = read_names(value, key, "topic");
    } else if (name == "produces") {
      agent.produces = read_names(value, key, "topic");
    } else if (name == "stores") {
      agent.stores = read_names(value, key, "store");
    } else if (name == "kafka") {
      read_properties(value, key, agent.kafka);
    } else if (name == "supervision") {
      agent.supervision = read_scalars<supervision_policy>(value, key, supervision_keys());
    } else {
      set_scalar(agent, name, scalar(value, key), key);
    }
  }
  return agent;
}

void read_agents(const YAML::Node& node, std::vector<agent_config>& agents) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) throw expected("agents", "a sequence of agents", node);
  for (std::size_t i = 0; i < node.size(); ++i)
    agents.push_back(read_agent(node[i], "agents[" + std::to_string(i) + "]"));
}

}  // namespace

runtime_config parse_yaml(const std::string& yaml, const std::string& prefix) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw config_error("config", prefix + "line " + std::to_string(e.mark.line + 1) + ", column " +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  runtime_config cfg;
  for (const auto& [name, value] : entries(root, "")) {
    require_known(name, name, runtime_keys());
    if (properties* props = property_map(cfg, name)) {
      read_properties(value, name, *props);
    } else if (name == "agents") {
      read_agents(value, cfg.agents);
    } else if (name == "log") {
      cfg.log = read_scalars<log_config>(value, name, log_keys());
    } else if (name == "metrics") {
      cfg.metrics = read_scalars<metrics_config>(value, name, metrics_keys());
    } else {
      set_scalar(cfg, name, scalar(value, name), name);
    }
  }
  validate(cfg);
  return cfg;
}

}  // namespace kactor::detail
