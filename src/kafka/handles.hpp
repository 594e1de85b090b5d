#pragma once
// RAII owners for every librdkafka handle and list kactor holds, client
// configuration, and the mapping of librdkafka errors to `error_info`.
// Internal: not part of the public API. src/kafka/ only uses librdkafka, never CAF.

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
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

struct headers_deleter {
  void operator()(rd_kafka_headers_t* p) const noexcept { rd_kafka_headers_destroy(p); }
};
struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* p) const noexcept { rd_kafka_metadata_destroy(p); }
};
struct admin_options_deleter {
  void operator()(rd_kafka_AdminOptions_t* p) const noexcept { rd_kafka_AdminOptions_destroy(p); }
};
struct new_topic_deleter {
  void operator()(rd_kafka_NewTopic_t* p) const noexcept { rd_kafka_NewTopic_destroy(p); }
};
struct delete_topic_deleter {
  void operator()(rd_kafka_DeleteTopic_t* p) const noexcept { rd_kafka_DeleteTopic_destroy(p); }
};
struct acl_binding_deleter {
  void operator()(rd_kafka_AclBinding_t* p) const noexcept { rd_kafka_AclBinding_destroy(p); }
};
struct alter_group_offsets_deleter {
  void operator()(rd_kafka_AlterConsumerGroupOffsets_t* p) const noexcept {
    rd_kafka_AlterConsumerGroupOffsets_destroy(p);
  }
};
struct list_group_offsets_deleter {
  void operator()(rd_kafka_ListConsumerGroupOffsets_t* p) const noexcept {
    rd_kafka_ListConsumerGroupOffsets_destroy(p);
  }
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
using headers_ptr = std::unique_ptr<rd_kafka_headers_t, headers_deleter>;
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;
using admin_options_ptr = std::unique_ptr<rd_kafka_AdminOptions_t, admin_options_deleter>;
using new_topic_ptr = std::unique_ptr<rd_kafka_NewTopic_t, new_topic_deleter>;
using delete_topic_ptr = std::unique_ptr<rd_kafka_DeleteTopic_t, delete_topic_deleter>;
using acl_binding_ptr = std::unique_ptr<rd_kafka_AclBinding_t, acl_binding_deleter>;
using list_group_offsets_ptr =
    std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t, list_group_offsets_deleter>;
using alter_group_offsets_ptr =
    std::unique_ptr<rd_kafka_AlterConsumerGroupOffsets_t, alter_group_offsets_deleter>;

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

/// The value `conf` holds for property `name` (librdkafka's default if
/// unset), or nothing if librdkafka knows no such property.
std::optional<std::string> conf_value(const rd_kafka_conf_t* conf, const char* name);

/// librdkafka's log lines (syslog levels) into kactor's log; every client's
/// log callback (`make_conf`). Called on librdkafka's threads.
void log_librdkafka(const rd_kafka_t* rk, int level, const char* facility, const char* text);

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

}  // namespace kactor::detail
