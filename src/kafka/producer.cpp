#include "src/kafka/producer.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>

#include <kactor/log.hpp>

namespace kactor::detail {

shared_producer::shared_producer(property_list props, delivery_report report,
                                 std::string transactional_id)
    : props_(std::move(props)), report_(report), transactional_(!transactional_id.empty()) {
  props_.insert(props_.begin(), property{"", "topic.metadata.propagation.max.ms",
                                         std::to_string(default_propagation_ms)});
  props_.push_back(property{"", "enable.idempotence", "true"});
  if (transactional_)
    props_.push_back(property{"", "transactional.id", std::move(transactional_id)});
  open();
  start_poller();
}

void shared_producer::open() {
  auto conf = make_conf(props_);
  if (const auto v = conf_value(conf.get(), "transaction.timeout.ms"))
    txn_timeout_ms_ = std::stoi(*v);
  if (const auto v = conf_value(conf.get(), "message.timeout.ms"))
    delivery_timeout_ = std::chrono::milliseconds(std::stoll(*v));
  if (const auto v = conf_value(conf.get(), "queue.buffering.max.messages"))
    saturation_ = std::max(1, std::stoi(*v) / 10 * 9);
  if (const auto v = conf_value(conf.get(), "queue.buffering.max.kbytes"))
    byte_saturation_ = std::max<std::int64_t>(1, std::stoll(*v) * 1024 / 10 * 9);
  // Reports of a previous librdkafka producer (reset) were all served.
  queued_bytes_.store(0, std::memory_order_relaxed);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &shared_producer::on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rk_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  if (!transactional_) return;
  if (error_ptr err{rd_kafka_init_transactions(rk_.get(), 60000)})
    throw kafka_exception(make_error(err.get(), "init_transactions"));
  if (error_ptr err{rd_kafka_begin_transaction(rk_.get())})
    throw kafka_exception(make_error(err.get(), "begin_transaction"));
}

void shared_producer::start_poller() {
  stop_.store(false, std::memory_order_release);
  poller_ = std::thread([this] {
    while (!stop_.load(std::memory_order_acquire)) rd_kafka_poll(rk_.get(), 100);
  });
}

void shared_producer::stop_poller() {
  if (!poller_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  poller_.join();
}

shared_producer::~shared_producer() {
  close();
}

void shared_producer::close() {
  if (rk_) flush(std::chrono::milliseconds(30000));
  stop_poller();
  // Serve reports that arrived after the poll thread's last round.
  if (rk_) rd_kafka_poll(rk_.get(), 0);
  {
    std::unique_lock lock(topics_mx_);
    topics_.clear();
  }
  rk_.reset();
  wake_room_waiters();
}

void shared_producer::reset() {
  stop_poller();
  if (rk_) {
    // Every record still held gets its (failed) delivery report, so no
    // partition actor waits for an acknowledgement that cannot come.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (rd_kafka_outq_len(rk_.get()) > 0 && std::chrono::steady_clock::now() < deadline)
      rd_kafka_poll(rk_.get(), 10);
    {
      std::unique_lock lock(topics_mx_);
      topics_.clear();
    }
    rk_.reset();
  }
  open();
  start_poller();
  wake_room_waiters();
}

bool shared_producer::flush(std::chrono::milliseconds timeout) {
  return rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

error_ptr shared_producer::commit_transaction(const rd_kafka_topic_partition_list_t* offsets,
                                              const rd_kafka_consumer_group_metadata_t* metadata) {
  if (offsets && offsets->cnt > 0) {
    if (error_ptr err{
            rd_kafka_send_offsets_to_transaction(rk_.get(), offsets, metadata, txn_timeout_ms_)})
      return err;
  }
  // A commit not answered within the transaction timeout is ambiguous: the
  // caller re-creates the producer rather than wait longer.
  if (error_ptr err{rd_kafka_commit_transaction(rk_.get(), txn_timeout_ms_)}) return err;
  return error_ptr{rd_kafka_begin_transaction(rk_.get())};
}

error_ptr shared_producer::abort_transaction() {
  // Let in-flight requests (and the AddPartitionsToTxn they trigger) finish
  // first: librdkafka 2.0.2 can otherwise end a transaction the coordinator
  // still holds as empty, which the broker answers with a fatal
  // INVALID_TXN_STATE.
  rd_kafka_flush(rk_.get(), 30000);
  if (error_ptr err{rd_kafka_abort_transaction(rk_.get(), txn_timeout_ms_)}) return err;
  return error_ptr{rd_kafka_begin_transaction(rk_.get())};
}

rd_kafka_topic_t* shared_producer::topic(std::string_view name) {
  {
    std::shared_lock lock(topics_mx_);
    if (auto it = topics_.find(name); it != topics_.end()) return it->second.get();
  }
  std::unique_lock lock(topics_mx_);
  auto [it, inserted] = topics_.try_emplace(std::string(name));
  if (inserted) it->second.reset(rd_kafka_topic_new(rk_.get(), it->first.c_str(), nullptr));
  return it->second.get();
}

void produce(rd_kafka_t* rk, const outgoing_record& r, const queue_full_policy& policy,
             std::string_view action) {
  // Read the clock only once the queue is full: not on the record's path.
  std::optional<std::chrono::steady_clock::time_point> give_up;
  rd_kafka_headers_t* hdrs = r.headers ? r.headers->get() : nullptr;
  for (;;) {
    const auto err =
        r.rkt ? rd_kafka_producev(
                    rk, RD_KAFKA_V_RKT(r.rkt), RD_KAFKA_V_PARTITION(r.partition),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_KEY(const_cast<char*>(r.key.data()), r.key.size()),
                    RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(r.opaque), RD_KAFKA_V_END)
              : rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(std::string(r.topic).c_str()),
                    RD_KAFKA_V_PARTITION(r.partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_KEY(const_cast<char*>(r.key.data()), r.key.size()),
                    RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(r.opaque), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (r.headers) (void)r.headers->release();  // librdkafka owns them now
      return;
    }
    // Refused: the headers stay ours, for the next attempt or to free.
    const auto now = std::chrono::steady_clock::now();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !give_up) give_up = now + policy.wait;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || now >= *give_up)
      throw kafka_exception(make_error(err, std::string(action) + " " + std::string(r.topic)));
    if (policy.poll)
      rd_kafka_poll(rk, 10);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void shared_producer::produce(std::string_view topic_name, partition_id partition,
                              std::string_view key, std::string_view value, const headers& hdrs,
                              void* token) {
  headers_ptr rkh;
  if (!hdrs.empty()) {
    rkh.reset(rd_kafka_headers_new(hdrs.size()));
    for (const auto& h : hdrs)
      rd_kafka_header_add(rkh.get(), h.key.data(), static_cast<ssize_t>(h.key.size()),
                          h.value.data(), static_cast<ssize_t>(h.value.size()));
  }
  outgoing_record r;
  r.topic = topic_name;
  r.rkt = topic(topic_name);
  r.partition = partition.value() >= 0 ? partition.value() : RD_KAFKA_PARTITION_UA;
  r.key = key;
  r.value = value;
  r.headers = hdrs.empty() ? nullptr : &rkh;
  r.opaque = token;
  // Partition actors wait for room before a slice (`saturated`), so a full
  // queue here is rare; it empties within message.timeout.ms at the latest,
  // when every queued record has its report.
  kactor::detail::produce(rk_.get(), r, queue_full_policy{delivery_timeout_, false}, "emit to");
  emitted_.fetch_add(1, std::memory_order_relaxed);
  queued_bytes_.fetch_add(static_cast<std::int64_t>(value.size()), std::memory_order_relaxed);
}

void shared_producer::when_room(std::function<void()> wake) {
  {
    std::lock_guard lock(room_mx_);
    room_waiters_.push_back(std::move(wake));
    room_wanted_.store(true);
  }
  // The reports may have drained the queue before the waiter was there to
  // see it: look once more now that it is.
  if (!rk_ || has_room()) wake_room_waiters();
}

void shared_producer::wake_room_waiters() {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(room_mx_);
    waiters.swap(room_waiters_);
    room_wanted_.store(false);
  }
  for (auto& w : waiters) w();
}

void shared_producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<shared_producer*>(opaque);
  self->queued_bytes_.fetch_sub(static_cast<std::int64_t>(msg->len), std::memory_order_relaxed);
  if (self->room_wanted_.load() && self->has_room()) self->wake_room_waiters();
  const bool ok = msg->err == RD_KAFKA_RESP_ERR_NO_ERROR;
  // Records purged by an aborted transaction are the abort working, not a failure.
  const bool purged =
      msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
  if (!ok && !purged) {
    auto n = self->failures_.fetch_add(1, std::memory_order_relaxed);
    if (n < 10 || n % 1000 == 0)
      log_about(log_level::error, {{}, rd_kafka_topic_name(msg->rkt), msg->partition},
                "delivery failed ({} failures so far): {}", n + 1, rd_kafka_err2str(msg->err));
  }
  if (!msg->_private) return;
  if (ok) {
    self->report_(msg->_private, 0, {});
    return;
  }
  self->report_(msg->_private, msg->err,
                std::string("delivery to ") + rd_kafka_topic_name(msg->rkt) + " [" +
                    std::to_string(msg->partition) + "] failed: " + rd_kafka_err2str(msg->err));
}

}  // namespace kactor::detail
