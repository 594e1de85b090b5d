// The assign-only consumer that reads changelog partitions for restores.

#include "src/kafka/changelog_reader.hpp"

#include <exception>
#include <optional>
#include <string>

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
  // One partition is read at a time, from its start: large fetches, not the
  // agent's prefetch share per partition (with the agent's 1 MiB fetches a
  // 200k-record partition took ~2 s to restore in task_stores_kafka_test,
  // ~0.3 s with these).
  props.push_back({"", "max.partition.fetch.bytes", std::to_string(16 << 20)});
  props.push_back({"", "fetch.max.bytes", std::to_string(50 << 20)});
  props.push_back({"", "queued.max.messages.kbytes", std::to_string(32 << 10)});
  props.push_back({"", "queued.min.messages", "1000000"});
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
  // librdkafka calls back for every message it has, instead of one poll
  // (queue lock, message handed over and destroyed) per record.
  struct reading {
    const apply_fn& apply;
    std::int64_t end;
    rd_kafka_t* rk;
    std::string where;
    bool done = false;
    std::optional<kafka_exception> failure{};
    /// What `apply` threw: kept across librdkafka's C frames, rethrown here.
    std::exception_ptr apply_failed{};
  } r{apply, end, rk_.get(), to_string(topic_partition{topic, partition_id{partition}})};
  const queue_ptr queue{rd_kafka_queue_get_consumer(rk_.get())};
  const auto on_message = [](rd_kafka_message_t* m, void* opaque) {
    auto& r = *static_cast<reading*>(opaque);
    if (r.done) return;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      r.done = true;
    } else if (m->err) {
      auto info = make_error(m->err, "restore of " + r.where);
      if (info.cls == error_class::retriable) return;  // librdkafka fetches again
      r.failure.emplace(std::move(info));
      r.done = true;
    } else if (m->offset >= r.end) {
      r.done = true;
    } else {
      try {
        r.apply({static_cast<const char*>(m->key), m->key_len},
                {static_cast<const char*>(m->payload), m->len});
        r.done = m->offset + 1 >= r.end;
      } catch (...) {
        r.apply_failed = std::current_exception();
        r.done = true;
      }
    }
    if (r.done) rd_kafka_yield(r.rk);
  };
  while (!cancelled()) {
    rd_kafka_consume_callback_queue(queue.get(), 100, on_message, &r);
    if (r.apply_failed) std::rethrow_exception(r.apply_failed);
    if (r.failure) throw *r.failure;
    if (r.done) return true;
  }
  return false;
}

}  // namespace kactor::detail
