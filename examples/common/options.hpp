#pragma once
// Flags every example shares: where the cluster is, where stats go, and
// configuration from a YAML file and `--set key=value` overrides.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <kactor/config.hpp>

namespace examples {

struct options {
  std::string brokers;
  std::string stats_path;
  std::string config_path;
  std::vector<std::string> overrides;

  void add_to(CLI::App& app) {
    app.add_option("--brokers", brokers, "bootstrap servers; empty runs a self-contained demo");
    app.add_option("--stats", stats_path, "rewrite this file with JSON stats every 100 ms");
    app.add_option("--config", config_path, "YAML config (see the README)");
    app.add_option("--set", overrides, "config override key=value (see the README)");
  }

  /// Settings in increasing precedence: defaults, --config, --brokers, --set.
  kactor::runtime_config config() const {
    kactor::runtime_config cfg;
    if (!config_path.empty()) cfg = kactor::load_config(config_path);
    if (!brokers.empty()) cfg.brokers = brokers;
    for (const auto& o : overrides) kactor::apply_override(cfg, o);
    return cfg;
  }
};

}  // namespace examples
