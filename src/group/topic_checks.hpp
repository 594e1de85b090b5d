#pragma once
// What the runtime checks on real brokers before it starts its agents: the
// topics they write to and the topics they consume.

#include <string>
#include <vector>

#include <kactor/config.hpp>

#include "src/group/consumer_group.hpp"

namespace kactor::detail {

/// Dead-letter topics must exist before the first record fails (brokers
/// often refuse automatic topic creation): missing ones are created.
/// Declared outputs must exist: every missing one is named. Throws
/// `config_error` naming the agent's key.
void check_outputs(rd_kafka_t* rk, const std::vector<agent_definition>& agents);

/// Stops the start (`config_error`) if `missing` (consumed topics of `a` that
/// do not exist) is not empty and `a` requires its topics; else warns.
void check_inputs(const agent_config& a, const std::vector<std::string>& missing);

}  // namespace kactor::detail
