#include "src/kafka/partition_queue.hpp"

#include <kactor/log.hpp>

#include "src/kafka/prefetch_budget.hpp"

namespace kactor::detail {
namespace {

std::optional<std::string_view> last_header(const void* native, std::string_view name) {
  rd_kafka_headers_t* hdrs = nullptr;
  auto* msg = static_cast<rd_kafka_message_t*>(const_cast<void*>(native));
  if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const std::string key(name);
  const void* val = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(hdrs, key.c_str(), &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return std::nullopt;
  return std::string_view(static_cast<const char*>(val), val ? size : 0);
}

headers all_headers(const void* native) {
  headers out;
  rd_kafka_headers_t* hdrs = nullptr;
  auto* msg = static_cast<rd_kafka_message_t*>(const_cast<void*>(native));
  if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name = nullptr;
  const void* val = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; ++i)
    out.push_back(kactor::header{name, std::string(static_cast<const char*>(val), val ? size : 0)});
  return out;
}

constexpr header_reader librdkafka_headers{&last_header, &all_headers};

}  // namespace

partition_queue::partition_queue(rd_kafka_t* rk, const topic_partition& tp, fetch_gate* gate)
    : rk_(rk),
      queue_(rd_kafka_queue_get_partition(rk, tp.topic.c_str(), tp.partition.value())),
      topic_(tp.topic),
      partition_(tp.partition),
      rkt_(rd_kafka_topic_new(rk, tp.topic.c_str(), nullptr)),
      tpl_(make_tpl(1)),
      position_(make_tpl(1)),
      gate_(gate) {
  // Served by the partition's actor, not by the consumer's poll.
  rd_kafka_queue_forward(queue_.get(), nullptr);
  rd_kafka_topic_partition_list_add(tpl_.get(), topic_.c_str(), partition_.value());
  rd_kafka_topic_partition_list_add(position_.get(), topic_.c_str(), partition_.value());
  if (gate_) gate_->join(*this);
}

partition_queue::~partition_queue() {
  if (gate_) gate_->leave(*this);
  drop_staged();
  if (notify_) rd_kafka_queue_cb_event_enable(queue_.get(), nullptr, nullptr);
}

void partition_queue::on_records(void (*notify)(void*), void* opaque) {
  notify_ = notify;
  notify_opaque_ = opaque;
  rd_kafka_queue_cb_event_enable(queue_.get(), &partition_queue::on_event, this);
}

void partition_queue::on_event(rd_kafka_t*, void* opaque) {
  auto* self = static_cast<partition_queue*>(opaque);
  self->notify_(self->notify_opaque_);
}

void partition_queue::destroy_message(void* msg) {
  rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(msg));
}

std::size_t partition_queue::consume(std::size_t max) {
  std::lock_guard lock(ops_mx_);
  const auto n = rd_kafka_consume_batch_queue(queue_.get(), 0, batch_.data(), max);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::int64_t partition_queue::past_markers() {
  // librdkafka serves a control record on the queue like a record but never
  // returns it: it only moves the consumer's position past it.
  if (rd_kafka_position(rk_, position_.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  // No lock: `next_to_take_` is written on this (the actor's) thread, as by
  // take(); wake_fetcher only reads it.
  const auto position = position_->elems[0].offset;
  if (position < 0 || position <= next_to_take_.load(std::memory_order_relaxed)) return -1;
  next_to_take_.store(position, std::memory_order_relaxed);
  return position;
}

bool partition_queue::to_event(const rd_kafka_message_t& msg, event& ev) const {
  if (msg.err) {
    if (msg.err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
      log_about(log_level::warn, about(), "consumer error: {}", rd_kafka_message_errstr(&msg));
    return false;
  }
  rd_kafka_timestamp_type_t tstype;
  const auto ts = rd_kafka_message_timestamp(&msg, &tstype);
  ev = event{topic_,
             partition_,
             kactor::offset{msg.offset},
             ts,
             std::string_view(static_cast<const char*>(msg.key), msg.key ? msg.key_len : 0),
             std::string_view(static_cast<const char*>(msg.payload), msg.payload ? msg.len : 0),
             &msg,
             nullptr,
             &librdkafka_headers};
  return true;
}

bool partition_queue::has_backlog() const {
  return !staged_.empty() || rd_kafka_queue_length(queue_.get()) > 0;
}

void partition_queue::pause_locked(bool paused) {
  auto err = paused ? rd_kafka_pause_partitions(rk_, tpl_.get())
                    : rd_kafka_resume_partitions(rk_, tpl_.get());
  if (err)
    log_about(log_level::warn, about(), "{}: {}", paused ? "pause" : "resume",
              rd_kafka_err2str(err));
}

void partition_queue::want(bool fetched) {
  wants_ = fetched;
  if (gate_) {
    gate_->update(*this, fetched, !staged_.empty());
    return;
  }
  std::lock_guard lock(ops_mx_);
  pause_locked(!fetched);
}

bool partition_queue::fetch(bool on) {
  std::lock_guard lock(ops_mx_);
  pause_locked(!on);
  if (!on) return true;
  // A resume alone can leave librdkafka's fetcher idle for up to a second
  // (resume_at); a partition never fetched has no offset to seek to, and
  // starts as librdkafka's assignment says.
  return nudge_locked();
}

bool partition_queue::nudge() {
  std::lock_guard lock(ops_mx_);
  return nudge_locked();
}

bool partition_queue::nudge_locked() {
  const auto next = next_to_take_.load(std::memory_order_relaxed);
  if (next < 0) return false;
  // Timeout 0: queued to librdkafka's main thread, behind the resume.
  if (auto err = seek_locked(next, 0))
    log_about(log_level::warn, about(), "seek to {}: {}", next, rd_kafka_error_string(err.get()));
  return true;
}

std::uint64_t partition_queue::queued_bytes() const {
  const auto records = static_cast<std::uint64_t>(rd_kafka_queue_length(queue_.get())) +
                       staged_count_.load(std::memory_order_relaxed);
  return records * (mean_bytes_.load(std::memory_order_relaxed) + record_overhead_bytes);
}

void partition_queue::after_take(std::size_t taken, std::size_t bytes, bool end) {
  if (taken > 0) {
    mean_bytes_.store(bytes / taken, std::memory_order_relaxed);
    took();
  }
  if (taken > 0 || end) caught_up(end);
  if (taken == 0 || !fetching() || !gate_->contended()) return;
  // Stage only if the turn can end: staged records are not fetched again
  // while they wait, but librdkafka fetches more for a partition that goes on.
  if (!gate_->turn_over(*this)) return;
  stage();
  gate_->end_turn(*this, !staged_.empty());
}

void partition_queue::stage() {
  if (batch_.size() < 256) batch_.resize(256);
  std::int64_t next = -1;
  for (;;) {
    const auto n = consume(batch_.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (!batch_[i]->err) next = batch_[i]->offset + 1;
      staged_.push_back(batch_[i]);
    }
    if (n < batch_.size()) break;
  }
  if (next >= 0) next_to_take_.store(next, std::memory_order_relaxed);
  staged_count_.store(staged_.size(), std::memory_order_relaxed);
}

void partition_queue::drop_staged() {
  for (auto* msg : staged_) rd_kafka_message_destroy(msg);
  staged_.clear();
  staged_count_.store(0, std::memory_order_relaxed);
}

error_ptr partition_queue::seek_locked(std::int64_t next, int timeout_ms) {
  auto tpl = make_tpl(1);
  rd_kafka_topic_partition_list_add(tpl.get(), topic_.c_str(), partition_.value())->offset = next;
  return error_ptr{rd_kafka_seek_partitions(rk_, tpl.get(), timeout_ms)};
}

void partition_queue::seek(kactor::offset next) {
  drop_staged();
  {
    std::lock_guard lock(ops_mx_);
    next_to_take_.store(next.value(), std::memory_order_relaxed);
    if (auto err = seek_locked(next.value(), 10000))
      log_about(log_level::error, about(), "rewind to {}: {}", next.value(),
                rd_kafka_error_string(err.get()));
  }
  resume();
}

void partition_queue::resume_at(kactor::offset next) {
  drop_staged();
  {
    std::lock_guard lock(ops_mx_);
    next_to_take_.store(next.value(), std::memory_order_relaxed);
    if (!gate_) pause_locked(false);
    if (auto err = seek_locked(next.value(), 10000))
      log_about(log_level::warn, about(), "resume at {}: {}", next.value(),
                rd_kafka_error_string(err.get()));
  }
  // With a gate: fetching, the seek woke the fetcher; waiting, the gate's
  // resume seeks again in the partition's turn.
  if (gate_) resume();
}

void partition_queue::wake_fetcher() {
  nudge();
}

void partition_queue::store(kactor::offset next) {
  // rd_kafka_offset_store stores offset + 1.
  auto err = rd_kafka_offset_store(rkt_.get(), partition_.value(), next.value() - 1);
  if (err && err != RD_KAFKA_RESP_ERR__STATE)
    log_about(log_level::warn, about(), "store offset {}: {}", next.value(), rd_kafka_err2str(err));
}

}  // namespace kactor::detail
