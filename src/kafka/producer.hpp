#pragma once
// The runtime's shared idempotent producer, and exactly_once agents'
// transactional ones (init, commit, abort, re-create). Partition actors
// produce through it from CAF worker threads (src/group/producer_sink.hpp);
// its own poll thread serves delivery reports and hands each to the
// `delivery_report` function with the token its record was produced with.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include <string_view>

#include <kactor/event.hpp>

#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// What `produce` does when librdkafka's local queue is full (backpressure
/// from the brokers: records wait for their acknowledgements).
struct queue_full_policy {
  /// Wait at most this long for room, then fail; zero: fail at once.
  std::chrono::milliseconds wait{0};
  /// While waiting, serve delivery reports on the calling thread
  /// (`rd_kafka_poll`): for a producer no other thread polls. Otherwise sleep
  /// while the producer's own poll thread serves them.
  bool poll = false;
};

/// One record for `produce`. The payload is copied into librdkafka.
struct outgoing_record {
  std::string_view topic;
  /// A topic handle for `topic`, if the caller keeps one (faster); else null.
  rd_kafka_topic_t* rkt = nullptr;
  std::int32_t partition = RD_KAFKA_PARTITION_UA;
  std::string_view key;
  std::string_view value;
  /// Taken over by librdkafka when the record is accepted; null for none.
  headers_ptr* headers = nullptr;
  /// Comes back in the delivery report (`rd_kafka_message_t::_private`).
  void* opaque = nullptr;
};

/// The one way kactor hands a record to librdkafka. A full queue is handled
/// as `policy` says; when it gives up, or librdkafka refuses the record for
/// any other reason, throws `kafka_exception` whose message is `action`, the
/// topic and librdkafka's reason (a full queue is retriable). Allocates
/// nothing unless it throws.
void produce(rd_kafka_t* rk, const outgoing_record& record, const queue_full_policy& policy,
             std::string_view action = "produce to");

/// Called on the producer's poll thread once per record produced with a
/// non-null `token`: `code` 0 when the broker acknowledged it, else
/// librdkafka's error code, with `what` naming the topic, partition and error.
using delivery_report = void (*)(void* token, int code, std::string_view what);

class shared_producer final {
 public:
  /// kactor's default `topic.metadata.propagation.max.ms`.
  static constexpr int default_propagation_ms = 5000;

  /// `props` are the user's properties; idempotence is forced on. kactor's
  /// default `topic.metadata.propagation.max.ms` is 5000 (librdkafka: 30000):
  /// how long a record for a topic the cluster does not know waits for the
  /// topic to appear before it fails (docs/supervision.md). With a
  /// `transactional_id` the producer is transactional: it initialises its
  /// transactions (fencing an older producer with the same id) and opens the
  /// first transaction.
  shared_producer(property_list props, delivery_report report, std::string transactional_id = {});
  /// Closes the producer if `close` did not.
  ~shared_producer();

  /// Flushes (up to 30 s), stops the poll thread, serves the last delivery
  /// reports and destroys the librdkafka producer. The counters stay
  /// readable (stats after `runtime::stop`); nothing may be emitted after.
  void close();

  /// Hands a record to librdkafka (the payload is copied once); `token`
  /// comes back through the delivery report. Partition -1 partitions by key.
  /// Throws `kafka_exception` if librdkafka refuses it at once. A full local
  /// queue is backpressure from the brokers: it waits for room.
  void produce(std::string_view topic, partition_id partition, std::string_view key,
               std::string_view value, const headers& hdrs, void* token);

  /// Waits until every record handed over so far is acknowledged or failed.
  bool flush(std::chrono::milliseconds timeout);

  /// Transactional only, on the thread that owns the transaction (the group
  /// thread): adds `offsets` for the group of `metadata`, commits, and opens
  /// the next transaction. Null on success; the error's flags tell whether to
  /// retry, abort or give up.
  error_ptr commit_transaction(const rd_kafka_topic_partition_list_t* offsets,
                               const rd_kafka_consumer_group_metadata_t* metadata);
  /// Aborts the open transaction (its records are never visible at
  /// read_committed) and opens the next one.
  error_ptr abort_transaction();
  /// Transactional only, group thread, while no partition actor can emit
  /// (they are held at a transaction barrier): purges what the current
  /// librdkafka producer still holds (every record gets its failed delivery
  /// report), destroys it and makes a new one with the same transactional id.
  /// Its init_transactions fences the old producer and settles the old
  /// transaction on the coordinator: an open one is aborted, one already
  /// being committed completes. Throws `kafka_exception` if the new producer
  /// cannot initialise; calling again then starts over.
  void reset();

  rd_kafka_t* handle() const { return rk_.get(); }
  /// `message.timeout.ms`: the longest a record waits for its delivery
  /// report, acknowledged or failed.
  std::chrono::milliseconds delivery_timeout() const { return delivery_timeout_; }
  /// Nine tenths of queue.buffering.max.messages, or of
  /// queue.buffering.max.kbytes of values, are queued or in flight: the
  /// limits at which librdkafka refuses records (the bytes as librdkafka
  /// counts them, values only). Any thread.
  bool saturated() const {
    return rd_kafka_outq_len(rk_.get()) >= saturation_ ||
           queued_bytes_.load(std::memory_order_relaxed) >= byte_saturation_;
  }
  /// Calls `wake` once the queue has drained to two thirds of the
  /// saturation limits (records and bytes): from the delivery report that
  /// takes it there, on the poll thread, or at once on the calling thread if
  /// it is there already. A reset or close wakes every waiter. Any thread;
  /// `wake` must not block. The gap between the two limits keeps a woken
  /// actor from saturating the queue again with its first slice.
  void when_room(std::function<void()> wake);
  std::uint64_t emitted() const { return emitted_.load(std::memory_order_relaxed); }
  std::uint64_t delivery_failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  rd_kafka_topic_t* topic(std::string_view name);
  /// Creates the librdkafka producer and, if transactional, initialises it.
  void open();
  void start_poller();
  void stop_poller();

  property_list props_;
  delivery_report report_;
  bool transactional_ = false;
  /// transaction.timeout.ms: how long a commit or abort may block.
  int txn_timeout_ms_ = 60000;
  std::chrono::milliseconds delivery_timeout_{300000};
  /// Records queued or in flight from which `saturated()` holds.
  int saturation_ = 90000;
  /// Bytes of values queued or in flight from which `saturated()` holds.
  std::int64_t byte_saturation_ = 0;
  /// Whether the queue is at two thirds of the saturation limits or below.
  bool has_room() const {
    return rd_kafka_outq_len(rk_.get()) <= saturation_ / 3 * 2 &&
           queued_bytes_.load(std::memory_order_relaxed) <= byte_saturation_ / 3 * 2;
  }
  /// Calls and forgets every `when_room` waiter.
  void wake_room_waiters();
  std::mutex room_mx_;
  std::vector<std::function<void()>> room_waiters_;
  /// Whether `room_waiters_` may be non-empty: read on every delivery report.
  std::atomic<bool> room_wanted_{false};
  /// Bytes of values handed to librdkafka and not yet reported delivered or
  /// failed: added by `emit`, taken off by the delivery reports.
  std::atomic<std::int64_t> queued_bytes_{0};
  handle_ptr rk_;
  std::shared_mutex topics_mx_;
  std::map<std::string, topic_ptr, std::less<>> topics_;
  std::atomic<std::uint64_t> emitted_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace kactor::detail
