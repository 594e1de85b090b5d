#pragma once
// RAII owners for every librdkafka handle kactor holds, and small helpers
// around them. Internal: not part of the public API.

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <kactor/error.hpp>
#include <kactor/types.hpp>

namespace kactor::detail {

struct conf_deleter {
  void operator()(rd_kafka_conf_t* p) const noexcept { rd_kafka_conf_destroy(p); }
};
struct handle_deleter {
  void operator()(rd_kafka_t* p) const noexcept { rd_kafka_destroy(p); }
};
struct queue_deleter {
  void operator()(rd_kafka_queue_t* p) const noexcept { rd_kafka_queue_destroy(p); }
};
struct topic_deleter {
  void operator()(rd_kafka_topic_t* p) const noexcept { rd_kafka_topic_destroy(p); }
};
struct tpl_deleter {
  void operator()(rd_kafka_topic_partition_list_t* p) const noexcept {
    rd_kafka_topic_partition_list_destroy(p);
  }
};
struct message_deleter {
  void operator()(rd_kafka_message_t* p) const noexcept { rd_kafka_message_destroy(p); }
};
struct error_deleter {
  void operator()(rd_kafka_error_t* p) const noexcept { rd_kafka_error_destroy(p); }
};
struct event_deleter {
  void operator()(rd_kafka_event_t* p) const noexcept { rd_kafka_event_destroy(p); }
};

struct group_metadata_deleter {
  void operator()(rd_kafka_consumer_group_metadata_t* p) const noexcept {
    rd_kafka_consumer_group_metadata_destroy(p);
  }
};

using group_metadata_ptr =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, group_metadata_deleter>;
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, topic_deleter>;
using tpl_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, tpl_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;
using error_ptr = std::unique_ptr<rd_kafka_error_t, error_deleter>;
using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;

/// Properties in the order they are applied; `source` names where each came
/// from (for example "kafka" or "agents[0].kafka") so errors can name the key.
struct property {
  std::string source;
  std::string name;
  std::string value;
};
using property_list = std::vector<property>;

void append(property_list& out, const std::string& source,
            const std::map<std::string, std::string>& props);

/// Builds a librdkafka configuration; an unknown or invalid property throws
/// `config_error` naming `source.name` and librdkafka's reason.
conf_ptr make_conf(const property_list& props);

/// Creates a client; throws `kafka_exception` (class fatal) on failure.
handle_ptr make_client(rd_kafka_type_t type, conf_ptr conf);

/// Classified error for a librdkafka response code.
error_info make_error(rd_kafka_resp_err_t err, const std::string& context);

/// Classified error from an rd_kafka_error_t (keeps its fatal/retriable/abort flags).
error_info make_error(const rd_kafka_error_t* err, const std::string& context);

tpl_ptr make_tpl(int size = 4);

/// The partition an element of a `rd_kafka_topic_partition_list_t` names.
inline topic_partition to_tp(const rd_kafka_topic_partition_t& p) {
  return topic_partition{p.topic, partition_id{p.partition}};
}

/// What the cluster says of `topic` in a metadata request: no error if it
/// exists, `UNKNOWN_TOPIC_OR_PART` if not, `TOPIC_EXCEPTION` for a name no
/// topic can have, `TOPIC_AUTHORIZATION_FAILED`, ... (brokers that create
/// topics on first use may create it here). Throws `kafka_exception` when
/// the brokers do not answer within `timeout_ms`.
rd_kafka_resp_err_t topic_status(rd_kafka_t* rk, const std::string& topic, int timeout_ms = 10000);

/// One Admin API request: `issue(options, queue)` sends it with options for
/// `op` (request timeout `timeout_ms`); returns its result event. Throws
/// `kafka_exception` naming `what` if no answer comes in time or the request
/// failed as a whole (per-item errors are the caller's to read).
event_ptr admin_request(
    rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms, const std::string& what,
    const std::function<void(rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& issue);

/// Creates topics with the Admin API (no-op for topics that exist), each
/// with the topic `configs` given (`max.message.bytes`, `cleanup.policy`, ...).
void create_topics(rd_kafka_t* rk, const std::vector<std::pair<std::string, int>>& topics,
                   int timeout_ms = 30000, const std::map<std::string, std::string>& configs = {});

}  // namespace kactor::detail
