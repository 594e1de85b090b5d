#pragma once
// The configuration's keys, one table per struct: the YAML reader
// (src/config/yaml.cpp), the --set overrides and the validation
// (src/config.cpp) and `config_keys()` all go through these.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <kactor/config.hpp>

namespace kactor::detail {

using properties = std::map<std::string, std::string>;

/// "a, b, c".
template <class Range>
std::string join(const Range& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

/// "invalid value 'v'; allowed: ...", for `key`.
config_error invalid(const std::string& key, const std::string& value, const std::string& allowed);

/// Throws naming `key` and the `allowed` keys unless `name` is one of them.
void require_known(const std::string& name, const std::string& key,
                   const std::vector<std::string>& allowed);

/// "path.name", or "name" at the top.
std::string key_of(const std::string& path, const std::string& name);

/// ("a", "b.c") for "a.b.c"; ("a", "") for "a".
std::pair<std::string, std::string> split_first_dot(const std::string& key);

/// Throws for a librdkafka property kactor manages itself, naming the key to use instead.
void check_properties(const properties& props, const std::string& path);

/// Sets the scalar `name` of a struct from `text` (errors name `key`);
/// false if the struct has no such scalar.
bool set_scalar(runtime_config& cfg, const std::string& name, const std::string& text,
                const std::string& key);
bool set_scalar(agent_config& cfg, const std::string& name, const std::string& text,
                const std::string& key);
bool set_scalar(supervision_policy& cfg, const std::string& name, const std::string& text,
                const std::string& key);
bool set_scalar(log_config& cfg, const std::string& name, const std::string& text,
                const std::string& key);
bool set_scalar(metrics_config& cfg, const std::string& name, const std::string& text,
                const std::string& key);

/// Every number of the struct within its row's range (values set in code
/// included); errors name `path`.`field`.
void check_ranges(const runtime_config& cfg, const std::string& path);
void check_ranges(const agent_config& cfg, const std::string& path);
void check_ranges(const supervision_policy& cfg, const std::string& path);

/// The keys each map accepts, in table order.
const std::vector<std::string>& runtime_keys();
const std::vector<std::string>& agent_keys();
const std::vector<std::string>& supervision_keys();
const std::vector<std::string>& log_keys();
const std::vector<std::string>& metrics_keys();
/// The keys `apply_override` accepts, at the top and under `agents.<name>.`.
const std::vector<std::string>& override_keys();
const std::vector<std::string>& agent_override_keys();

/// The runtime's property map called `name` (kafka, consumer, producer); null if none.
properties* property_map(runtime_config& cfg, const std::string& name);

}  // namespace kactor::detail
