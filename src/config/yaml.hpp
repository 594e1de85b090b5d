#pragma once
// Reads the YAML config file.

#include <string>

#include <kactor/config.hpp>

namespace kactor::detail {

/// The config in `yaml`, validated. Syntax errors name the line and column,
/// prefixed by `prefix` (the file, "path: ", or empty); other errors name
/// the key. Throws `config_error`.
runtime_config parse_yaml(const std::string& yaml, const std::string& prefix);

}  // namespace kactor::detail
