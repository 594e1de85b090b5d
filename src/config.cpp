#include <kactor/config.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <utility>

namespace kactor {
namespace {

using properties = std::map<std::string, std::string>;
using entry_list = std::vector<std::pair<std::string, YAML::Node>>;

struct managed_property {
  const char* name;
  const char* use_instead;
};
// librdkafka properties kactor sets itself; a user value would silently fight the runtime.
constexpr managed_property kManagedProperties[] = {
    {"group.id", "agents[i].group"},
    {"group.instance.id", "agents[i].group_instance_id"},
    {"partition.assignment.strategy", "agents[i].assignor"},
    {"enable.auto.commit", "commit_interval_ms"},
    {"enable.auto.offset.store", "commit_interval_ms"},
    {"auto.commit.interval.ms", "commit_interval_ms"},
    {"bootstrap.servers", "brokers"},
    {"metadata.broker.list", "brokers"},
};

constexpr std::uint64_t kUnbounded = std::numeric_limits<std::int64_t>::max();
constexpr std::uint64_t kMaxPollRecordsLimit = 1000000;
constexpr std::uint64_t kPauseAfterLimitMs = 3600000;
constexpr std::uint64_t kRetriesLimit = 1000;  // max_retries and max_restarts
constexpr std::uint64_t kBackoffLimitMs = 3600000;
constexpr std::uint64_t kRestartWindowLimitMs = 86400000;
constexpr std::uint64_t kTransactionIntervalLimitMs = 600000;

template <class Range>
std::string join(const Range& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

config_error invalid(const std::string& key, const std::string& value, const std::string& allowed) {
  return config_error(key, "invalid value '" + value + "'; allowed: " + allowed);
}

std::string range_text(std::uint64_t lo, std::uint64_t hi) {
  return hi == kUnbounded ? "integers >= " + std::to_string(lo)
                          : "integers " + std::to_string(lo) + ".." + std::to_string(hi);
}

// Plain decimal digits only: "-1" or "1e3" must not wrap around or truncate.
std::uint64_t to_uint(const std::string& text, const std::string& key, std::uint64_t lo,
                      std::uint64_t hi) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < lo || value > hi)
    throw invalid(key, text, range_text(lo, hi));
  return value;
}

// Values set in code bypass to_uint; checking their decimal text gives the same errors.
template <class Int>
void check_range(Int value, const std::string& key, std::uint64_t lo, std::uint64_t hi) {
  to_uint(std::to_string(value), key, lo, hi);
}

assignor_kind to_assignor(const std::string& text, const std::string& key) {
  std::vector<std::string> names;
  for (auto a :
       {assignor_kind::cooperative_sticky, assignor_kind::range, assignor_kind::roundrobin}) {
    if (text == to_string(a)) return a;
    names.emplace_back(to_string(a));
  }
  throw invalid(key, text, join(names));
}

processing_guarantee to_guarantee(const std::string& text, const std::string& key) {
  for (auto g : {processing_guarantee::at_least_once, processing_guarantee::exactly_once})
    if (text == to_string(g)) return g;
  throw invalid(key, text, "at_least_once, exactly_once");
}

template <class Range>
void require_known(const std::string& name, const std::string& key, const Range& allowed) {
  if (std::find(std::begin(allowed), std::end(allowed), name) == std::end(allowed))
    throw config_error(key, "unknown key; allowed: " + join(allowed));
}

std::string key_of(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

std::pair<std::string, std::string> split_first_dot(const std::string& key) {
  const auto dot = key.find('.');
  if (dot == std::string::npos) return {key, ""};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

void check_properties(const properties& props, const std::string& path) {
  for (const auto& p : kManagedProperties)
    if (props.count(p.name))
      throw config_error(path + "." + p.name,
                         std::string("managed by kactor; use ") + p.use_instead + " instead");
}

// The scalar keys of the config file, one table per struct: the YAML keys,
// the --set overrides, the range checks of `validate` (values set in code
// included) and `config_keys()` (which the README's table is tested
// against) all come from these rows.
template <class C>
struct scalar_field {
  const char* name;
  // Numbers: the allowed range, and how the value is stored and read back.
  std::uint64_t lo = 0, hi = 0;
  void (*store)(C&, std::uint64_t) = nullptr;
  std::int64_t (*load)(const C&) = nullptr;
  // Text and named values: how the text is read (null for numbers).
  void (*read)(C&, const std::string& text, const std::string& key) = nullptr;
};

// Rows for the three kinds of members: counts, milliseconds, strings.
template <class C, std::size_t C::*M>
scalar_field<C> count(const char* name, std::uint64_t lo, std::uint64_t hi) {
  return {name,
          lo,
          hi,
          [](C& c, std::uint64_t v) { c.*M = v; },
          [](const C& c) { return static_cast<std::int64_t>(c.*M); },
          nullptr};
}
template <class C, std::chrono::milliseconds C::*M>
scalar_field<C> millis(const char* name, std::uint64_t lo, std::uint64_t hi) {
  return {name,
          lo,
          hi,
          [](C& c, std::uint64_t v) { c.*M = std::chrono::milliseconds(v); },
          [](const C& c) -> std::int64_t { return (c.*M).count(); },
          nullptr};
}
template <class C, std::string C::*M>
scalar_field<C> text(const char* name) {
  return {name,    0,       0,
          nullptr, nullptr, [](C& c, const std::string& t, const std::string&) { c.*M = t; }};
}

const std::vector<scalar_field<runtime_config>>& runtime_fields() {
  using C = runtime_config;
  static const std::vector<scalar_field<C>> fields{
      text<C, &C::brokers>("brokers"),
      text<C, &C::client_id>("client_id"),
      millis<C, &C::commit_interval>("commit_interval_ms", 1, kUnbounded),
      count<C, &C::worker_threads>("worker_threads", 0, kUnbounded),
  };
  return fields;
}

const std::vector<scalar_field<agent_config>>& agent_fields() {
  using C = agent_config;
  static const std::vector<scalar_field<C>> fields{
      text<C, &C::group>("group"),
      text<C, &C::group_instance_id>("group_instance_id"),
      count<C, &C::max_poll_records>("max_poll_records", 1, kMaxPollRecordsLimit),
      count<C, &C::resume_below>("resume_below", 0, kUnbounded),
      millis<C, &C::pause_after>("pause_after_ms", 0, kPauseAfterLimitMs),
      {"assignor", 0, 0, nullptr, nullptr,
       [](C& c, const std::string& t, const std::string& key) {
         c.assignor = to_assignor(t, key);
       }},
      {"processing_guarantee", 0, 0, nullptr, nullptr,
       [](C& c, const std::string& t, const std::string& key) {
         c.guarantee = to_guarantee(t, key);
       }},
      millis<C, &C::transaction_interval>("transaction_interval_ms", 1,
                                          kTransactionIntervalLimitMs),
      count<C, &C::transaction_max_records>("transaction_max_records", 0, kUnbounded),
  };
  return fields;
}

const std::vector<scalar_field<supervision_policy>>& supervision_fields() {
  using C = supervision_policy;
  static const std::vector<scalar_field<C>> fields{
      count<C, &C::max_retries>("max_retries", 0, kRetriesLimit),
      millis<C, &C::backoff_base>("backoff_base_ms", 1, kBackoffLimitMs),
      millis<C, &C::backoff_max>("backoff_max_ms", 1, kBackoffLimitMs),
      text<C, &C::dlq_topic>("dlq_topic"),
      count<C, &C::max_restarts>("max_restarts", 0, kRetriesLimit),
      millis<C, &C::restart_window>("restart_window_ms", 1, kRestartWindowLimitMs),
  };
  return fields;
}

// Sets the scalar `name` from `text` (errors name `key`); false if `C` has no such scalar.
template <class C>
bool set_scalar(const std::vector<scalar_field<C>>& fields, C& cfg, const std::string& name,
                const std::string& text, const std::string& key) {
  for (const auto& f : fields) {
    if (name != f.name) continue;
    if (f.read)
      f.read(cfg, text, key);
    else
      f.store(cfg, to_uint(text, key, f.lo, f.hi));
    return true;
  }
  return false;
}

bool set_scalar(runtime_config& cfg, const std::string& name, const std::string& text,
                const std::string& key) {
  return set_scalar(runtime_fields(), cfg, name, text, key);
}
bool set_scalar(agent_config& cfg, const std::string& name, const std::string& text,
                const std::string& key) {
  return set_scalar(agent_fields(), cfg, name, text, key);
}
bool set_scalar(supervision_policy& cfg, const std::string& name, const std::string& text,
                const std::string& key) {
  return set_scalar(supervision_fields(), cfg, name, text, key);
}

// Every number of `cfg` within its row's range (values set in code bypass to_uint).
template <class C>
void check_ranges(const std::vector<scalar_field<C>>& fields, const C& cfg,
                  const std::string& path) {
  for (const auto& f : fields)
    if (f.load) check_range(f.load(cfg), key_of(path, f.name), f.lo, f.hi);
}

// The keys a map accepts: `before`, the table's, then `after`, in that order.
template <class C>
std::vector<std::string> keys(std::initializer_list<const char*> before,
                              const std::vector<scalar_field<C>>& fields,
                              std::initializer_list<const char*> after) {
  std::vector<std::string> out(before.begin(), before.end());
  for (const auto& f : fields) out.emplace_back(f.name);
  out.insert(out.end(), after.begin(), after.end());
  return out;
}

const std::vector<std::string>& runtime_keys() {
  static const auto k = keys({}, runtime_fields(), {"kafka", "consumer", "producer", "agents"});
  return k;
}
const std::vector<std::string>& agent_keys() {
  static const auto k =
      keys({"name", "topics", "produces"}, agent_fields(), {"kafka", "supervision"});
  return k;
}
const std::vector<std::string>& supervision_keys() {
  static const auto k = keys({}, supervision_fields(), {});
  return k;
}
const std::vector<std::string>& override_keys() {
  static const auto k = keys(
      {}, runtime_fields(),
      {"kafka.<property>", "consumer.<property>", "producer.<property>", "agents.<name>.<field>"});
  return k;
}
const std::vector<std::string>& agent_override_keys() {
  static const auto k =
      keys({"topics", "produces"}, agent_fields(), {"kafka.<property>", "supervision.<key>"});
  return k;
}

properties* property_map(runtime_config& cfg, const std::string& name) {
  if (name == "kafka") return &cfg.kafka;
  if (name == "consumer") return &cfg.consumer;
  if (name == "producer") return &cfg.producer;
  return nullptr;
}

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

std::vector<std::string> read_topics(const YAML::Node& node, const std::string& key) {
  if (node.IsScalar()) return {node.Scalar()};
  if (!node.IsSequence()) throw expected(key, "a topic name or a sequence of them", node);
  std::vector<std::string> topics;
  for (std::size_t i = 0; i < node.size(); ++i)
    topics.push_back(scalar(node[i], key + "[" + std::to_string(i) + "]"));
  return topics;
}

supervision_policy read_supervision(const YAML::Node& node, const std::string& path) {
  supervision_policy policy;
  for (const auto& [name, value] : entries(node, path)) {
    const std::string key = path + "." + name;
    require_known(name, key, supervision_keys());
    set_scalar(policy, name, scalar(value, key), key);
  }
  return policy;
}

agent_config read_agent(const YAML::Node& node, const std::string& path) {
  agent_config agent;
  for (const auto& [name, value] : entries(node, path)) {
    const std::string key = path + "." + name;
    require_known(name, key, agent_keys());
    if (name == "name") {
      agent.name = scalar(value, key);
    } else if (name == "topics") {
      agent.topics = read_topics(value, key);
    } else if (name == "produces") {
      agent.produces = read_topics(value, key);
    } else if (name == "kafka") {
      read_properties(value, key, agent.kafka);
    } else if (name == "supervision") {
      agent.supervision = read_supervision(value, key);
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

// `prefix` names the source in syntax errors ("path: " or empty).
runtime_config parse(const std::string& yaml, const std::string& prefix) {
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
    } else {
      set_scalar(cfg, name, scalar(value, name), name);
    }
  }
  validate(cfg);
  return cfg;
}

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
  } else if (field == "topics" || field == "produces") {
    auto& topics = field == "topics" ? agent.topics : agent.produces;
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
  check_ranges(supervision_fields(), policy, path);
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

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (const auto& f : runtime_fields()) out.emplace_back(f.name);
  for (const char* map : {"kafka", "consumer", "producer"})
    out.push_back(std::string(map) + ".<property>");
  for (const char* k : {"name", "topics", "produces"}) out.push_back(std::string("agents[].") + k);
  for (const auto& f : agent_fields()) out.push_back(std::string("agents[].") + f.name);
  out.emplace_back("agents[].kafka.<property>");
  for (const auto& f : supervision_fields())
    out.push_back(std::string("agents[].supervision.") + f.name);
  return out;
}

runtime_config load_config(const std::string& path) {
  std::ifstream in(path);
  in.peek();  // surfaces read errors (a directory, EIO) that copying the buffer would swallow
  if (!in.is_open() || in.bad())
    throw config_error("config", path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path + ": ");
}

runtime_config parse_config(const std::string& yaml) {
  return parse(yaml, "");
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
  } else if (props && !rest.empty()) {
    (*props)[rest] = value;
  } else if (!(rest.empty() && set_scalar(cfg, key, value, key))) {
    throw config_error(key, "unknown key; allowed: " + join(override_keys()));
  }
}

void validate(const runtime_config& cfg) {
  check_ranges(runtime_fields(), cfg, "");
  check_properties(cfg.kafka, "kafka");
  check_properties(cfg.consumer, "consumer");
  check_properties(cfg.producer, "producer");
  for (std::size_t i = 0; i < cfg.agents.size(); ++i) {
    const std::string where = "agents[" + std::to_string(i) + "]";
    validate(cfg.agents[i], where);
    for (std::size_t j = 0; j < i; ++j)
      if (cfg.agents[j].name == cfg.agents[i].name)
        throw config_error(where + ".name", "duplicate agent name '" + cfg.agents[i].name +
                                                "' (also agents[" + std::to_string(j) + "])");
  }
}

void validate(const agent_config& cfg, const std::string& where) {
  if (cfg.name.empty()) throw config_error(where + ".name", "required, must not be empty");
  if (cfg.topics.empty()) throw config_error(where + ".topics", "at least one topic required");
  if (std::find(cfg.topics.begin(), cfg.topics.end(), "") != cfg.topics.end())
    throw config_error(where + ".topics", "topic names must not be empty");
  if (std::find(cfg.produces.begin(), cfg.produces.end(), "") != cfg.produces.end())
    throw config_error(where + ".produces", "topic names must not be empty");
  check_ranges(agent_fields(), cfg, where);
  if (cfg.resume_below > cfg.max_poll_records)
    throw invalid(where + ".resume_below", std::to_string(cfg.resume_below),
                  "integers 0.." + std::to_string(cfg.max_poll_records) + " (max_poll_records)");
  check_properties(cfg.kafka, where + ".kafka");
  check_supervision(cfg.supervision, cfg.topics, where + ".supervision");
}

}  // namespace kactor
