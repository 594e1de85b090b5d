#pragma once
// An agent's state stores made ready at start: their changelog topics and
// their directory.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <kactor/config.hpp>

#include "src/group/task_stores.hpp"
#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// Why `topics` (an agent's inputs) are not co-partitioned: their
/// partition counts in `counts` differ, or one does not exist. The message
/// names every topic and its count. nullopt when they are.
std::optional<std::string> co_partitioning_error(const std::vector<std::string>& topics,
                                                 const std::map<std::string, int>& counts);

/// The internal topic through which `cfg`'s due timers come back to their
/// tasks: `<group>-timers`.
std::string timer_topic(const agent_config& cfg);
/// Where replies to `cfg`'s requests go: `reply_topic`, or `<name>.replies`.
std::string reply_topic(const agent_config& cfg);

/// An agent with timers or requests gets kactor's own stores
/// (`kactor.timers`, `kactor.requests`) and inputs (`timer_topic`, and
/// `reply_topic` for requests) after its own: they are parts of its tasks,
/// as its stores are. Called once, at start, after `validate` (which refuses
/// store names starting with "kactor."). Throws `config_error` when the agent
/// consumes one of those topics itself.
void add_internal_parts(agent_config& cfg);

/// Makes every changelog topic of `cfg`'s stores ready before the agent
/// starts: creates those missing (compacted, `cleanup.policy=compact`, as
/// many partitions as the agent's input topic) and checks those that exist
/// (same partition count; on a real broker, compacted). The agent's input
/// topics must be co-partitioned (`co_partitioning_error`). `counts` are the
/// cluster's topics and partition counts; `mock` is the embedded cluster
/// (null on a real broker: it has no Admin API, so topics are created with
/// the mock API and compaction is not checked). Throws `config_error` naming
/// `agents.<name>.stores` and the topic for anything unusable. Internal
/// inputs (`add_internal_parts`) that do not exist are created first, sized
/// as the first input, and added to `counts`.
void prepare_changelogs(rd_kafka_t* rk, rd_kafka_mock_cluster_t* mock, const agent_config& cfg,
                        std::map<std::string, int>& counts);

/// Where `cfg`'s stores live (`<state_dir>/<group>`), locked for this
/// process while the layout lives (throws `config_error` naming `state_dir`
/// when another live process holds it). Null for an agent without stores.
/// `partitions`: the input topic's partition count (the most tasks the agent can hold).
std::shared_ptr<const store_layout> make_store_layout(const agent_config& cfg,
                                                      const std::string& state_dir,
                                                      std::shared_ptr<const store_memory> memory,
                                                      int partitions);

}  // namespace kactor::detail
