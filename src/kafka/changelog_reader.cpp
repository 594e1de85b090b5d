// The assign-only consumer that reads changelog partitions for restores.

#include "src/kafka/changelog_reader.hpp"

#include "src/kafka/admin.hpp"

namespace kactor::detail {

changelog_reader::changelog_reader(property_list props) {
  props.push_back({"", "group.id", "kactor-restore"});
  props.push_back({"", "enable.auto.commit", "false"});
  props.push_back({"", "enable.auto.offset.store", "false"});
  props.push_back({"", "isolation.level", "read_committed"});
  props.push_back({"", "enable.partition.eof", "true"});
  props.push_back({"", "auto.offset.reset", "earliest"});
  // A fetch that finds nothing committed answers at once: the restore ends
  // at the end-of-partition event, not after the broker's fetch wait.
  props.push_back({"", "fetch.wait.max.ms", "10"});
  rk_ = make_client(RD_KAFKA_CONSUMER, make_conf(props));
}

std::pair<std::int64_t, std::int64_t> changelog_reader::bounds(const std::string& topic,
                                                               std::int32_t partition,
                                                               int timeout_ms) {
  return watermarks(rk_.get(), topic, partition, timeout_ms);
}

bool changelog_reader::read(const std::string& topic, std::int32_t partition, std::int64_t from,
                            std::int64_t end, const apply_fn& apply,
                            const std::function<bool()>& cancelled) {
  if (from >= end) return true;
  auto tpl = make_tpl(1);
  rd_kafka_topic_partition_list_add(tpl.get(), topic.c_str(), partition)->offset = from;
  if (auto err = rd_kafka_assign(rk_.get(), tpl.get()))
    throw kafka_exception(make_error(err, "restore: assign " + topic));
  struct unassign {
    rd_kafka_t* rk;
    ~unassign() { rd_kafka_assign(rk, nullptr); }
  } guard{rk_.get()};
  const std::string where = to_string(topic_partition{topic, partition_id{partition}});
  while (!cancelled()) {
    message_ptr m{rd_kafka_consumer_poll(rk_.get(), 100)};
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return true;
    if (m->err) {
      auto info = make_error(m->err, "restore of " + where);
      if (info.cls == error_class::retriable) continue;  // librdkafka fetches again
      throw kafka_exception(std::move(info));
    }
    if (m->offset >= end) return true;
    apply({static_cast<const char*>(m->key), m->key_len},
          {static_cast<const char*>(m->payload), m->len});
    if (m->offset + 1 >= end) return true;
  }
  return false;
}

}  // namespace kactor::detail
