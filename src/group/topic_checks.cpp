#include "src/group/topic_checks.hpp"

#include <kactor/log.hpp>

#include "src/kafka/admin.hpp"

namespace kactor::detail {

void check_outputs(rd_kafka_t* rk, const std::vector<agent_definition>& agents) {
  for (const auto& a : agents) {
    const auto dlq = consumer_group::dlq_topic(a.cfg);
    const auto key = "agents." + a.cfg.name + ".supervision.dlq_topic";
    auto status = topic_status(rk, dlq);
    if (status == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      try {
        create_topics(rk, {{dlq, 1}});
        continue;
      } catch (const kafka_exception& e) {
        if (e.info().cls == error_class::retriable) throw;  // the brokers, not the topic
        throw config_error(key, "dead-letter topic '" + dlq +
                                    "' does not exist and cannot be created: " + e.what());
      }
    }
    if (status)
      throw config_error(
          key, "dead-letter topic '" + dlq + "' cannot be used: " + rd_kafka_err2str(status));
  }
  std::string missing, first_key;
  for (const auto& a : agents)
    for (const auto& t : a.cfg.produces)
      if (auto status = topic_status(rk, t)) {
        if (first_key.empty()) first_key = "agents." + a.cfg.name + ".produces";
        missing += (missing.empty() ? "" : ", ") + t + " (agent " + a.cfg.name + ": " +
                   rd_kafka_err2str(status) + ")";
      }
  if (!missing.empty())
    throw config_error(first_key, "declared output topic(s) not usable: " + missing);
}

void check_inputs(const agent_config& a, const std::vector<std::string>& missing) {
  if (missing.empty()) return;
  std::string names;
  for (const auto& t : missing) names += (names.empty() ? "" : ", ") + t;
  if (a.require_topics)
    throw config_error("agents." + a.name + ".topics",
                       "consumed topic(s) do not exist: " + names + " (require_topics is true)");
  log_about(log_level::warn, {a.name},
            "consumed topic(s) {} do not exist yet; the agent is not ready until they do "
            "(agent_stats::missing_topics; require_topics: true refuses to start instead)",
            names);
}

}  // namespace kactor::detail
