#pragma once
// The librdkafka side of one assigned partition: its own queue (not
// forwarded to the consumer's), its records as events, pause and resume,
// seek, offset store, and its turns at the consumer's fetch gate.
// src/group/ adapts it to the partition actor's `partition_source`.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <kactor/event.hpp>
#include <kactor/log.hpp>
#include <kactor/types.hpp>

#include "src/kafka/fetch_gate.hpp"
#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// A librdkafka message owned without naming its type, for layers that do
/// not see librdkafka (the partition actor's record buffer).
using opaque_message = std::unique_ptr<void, void (*)(void*)>;

/// Threads: `take`, `has_backlog`, `pause`, `resume`, `seek` and `store` run
/// on the partition's actor (one at a time); `wake_fetcher` on the group
/// thread; the `on_records` callback runs on a librdkafka thread; the gate
/// starts and stops fetching from whichever thread moved it. The consumer
/// `rk` and the gate outlive the queue. Its takes from librdkafka and its
/// pauses, resumes and seeks hold one lock (`ops_mx_`): librdkafka 2.0.2's
/// batch consume loses records when one of those runs for the partition on
/// another thread meanwhile.
///
/// With a gate the partition fetches only in its turns (`fetch_gate`): it
/// joins the gate when made; a turn ends at the first take, past the gate's
/// `min_turn`, that finds records while another partition waits. The queue
/// then takes from librdkafka every record already fetched, since stopping
/// would discard them, and hands them out before it gives up its slot. A
/// take that finds the partition's end (`enable.partition.eof`) marks it
/// caught up, for the gate's `rotate`.
class partition_queue final : public fetch_gate::member {
 public:
  /// `gate`: the consumer's fetch gate, or null (the partition always fetches).
  partition_queue(rd_kafka_t* rk, const topic_partition& tp, fetch_gate* gate = nullptr);
  /// Leaves the gate and stops the callbacks before the queue goes away.
  ~partition_queue() override;
  partition_queue(const partition_queue&) = delete;
  partition_queue& operator=(const partition_queue&) = delete;

  /// From now on, `notify(opaque)` runs on a librdkafka thread whenever the
  /// queue gets records (it must not block).
  void on_records(void (*notify)(void*), void* opaque);

  /// Passes up to `max` records, without blocking, to `each(event, opaque_message)`;
  /// the event points into the message and carries its headers. Consumer
  /// errors other than end-of-partition are logged and skipped. When no
  /// record waits but librdkafka consumed transaction markers after the
  /// last record taken (it never hands them out), passes the last marker's
  /// offset to `markers(kactor::offset)` once. Returns how many records
  /// (or markers) were passed.
  template <class F, class M>
  std::size_t take(std::size_t max, F&& each, M&& markers) {
    if (!staged_.empty()) return take_staged(max, each);
    if (batch_.size() < max) batch_.resize(max);
    const auto n = consume(max);
    if (n == 0) {
      // Once per empty take, not per record.
      const auto past = past_markers();
      if (past < 0) return 0;
      markers(kactor::offset{past - 1});
      return 1;
    }
    std::size_t taken = 0, bytes = 0;
    std::int64_t next = -1;
    // Once per take: the partition's end comes last, after its records.
    const bool end = batch_[n - 1]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
    for (std::size_t i = 0; i < n; ++i) {
      const auto offset = batch_[i]->offset;
      const auto size = batch_[i]->len + batch_[i]->key_len;
      if (pass(batch_[i], each)) {
        next = offset + 1;
        bytes += size;
        ++taken;
      }
    }
    if (next >= 0) next_to_take_.store(next, std::memory_order_relaxed);
    if (gate_) after_take(taken, bytes, end);
    return taken;
  }

  /// What a `markers` callback's offset stands for: an event of this
  /// partition at `last`, with no key, value, timestamp or headers.
  event markers_event(kactor::offset last) const {
    return event{topic_, partition_, last, -1, {}, {}, nullptr, nullptr, nullptr};
  }
  /// Whether more records are already waiting.
  bool has_backlog() const;
  /// The records librdkafka queues for the partition and those staged, at
  /// the mean size of the last take's records plus `record_overhead_bytes`.
  std::uint64_t queued_bytes() const override;
  /// Pauses (resumes) the partition; with a gate, resuming waits for a turn.
  void pause() { want(false); }
  void resume() { want(true); }
  /// Makes `next` the next record fetched, and resumes the partition.
  void seek(kactor::offset next);
  /// Resumes the partition, then seeks it to `next`: the seek wakes the
  /// broker thread, which a resume alone does not (a partition paused before
  /// its first record otherwise waited ~1 s for its first fetch).
  void resume_at(kactor::offset next);
  /// librdkafka 2.0.2: after an incremental rebalance the broker thread that
  /// fetches this member's partitions waits out a fixed second before it
  /// fetches again, and neither a resume nor new assignments wake it; a seek
  /// does (issue 14, measured with a plain librdkafka program). Seeks the
  /// partition, without waiting, to the offset after the last record taken
  /// (or the last `seek`'s); nothing if no record was taken yet. A record
  /// taken meanwhile is fetched again and dropped as a duplicate by the
  /// partition's actor; a `seek` is never overtaken (both hold `ops_mx_`).
  void wake_fetcher();
  /// Stores `next` as the offset the consumer commits.
  void store(kactor::offset next);

 private:
  /// This partition as a log line's subject.
  log_subject about() const { return {{}, topic_, partition_.value()}; }
  /// The gate starts or stops the partition's fetching: resume and seek to
  /// the next record (the seek wakes librdkafka's fetcher), or pause.
  bool fetch(bool on) override;
  /// Seeks, without waiting, to the next record to take, which wakes
  /// librdkafka's fetcher; false if none is known.
  bool nudge() override;
  /// `nudge` for a caller that holds `ops_mx_`.
  bool nudge_locked();
  /// Pauses (true) or resumes the partition in librdkafka; the caller holds
  /// `ops_mx_`.
  void pause_locked(bool paused);
  /// `pause` and `resume`: through the gate, if there is one.
  void want(bool fetched);
  /// Passes `raw` to `each` as an event, or destroys it (a consumer error or
  /// the partition's end). Whether it was a record.
  template <class F>
  bool pass(rd_kafka_message_t* raw, F& each) {
    message_ptr msg{raw};
    event ev;
    if (!to_event(*msg, ev)) return false;
    each(ev, opaque_message{msg.release(), &destroy_message});
    return true;
  }
  /// Hands out up to `max` records taken at a turn's end; the last one
  /// gives the gate its slot back.
  template <class F>
  std::size_t take_staged(std::size_t max, F& each) {
    std::size_t taken = 0;
    while (taken < max && !staged_.empty()) {
      auto* msg = staged_.front();
      staged_.pop_front();
      taken += pass(msg, each) ? 1 : 0;
    }
    staged_count_.store(staged_.size(), std::memory_order_relaxed);
    if (taken > 0) took();
    if (staged_.empty()) gate_->update(*this, wants_, false);
    return taken;
  }
  /// With a gate, after a take that found `taken` records of `bytes` keys
  /// and values, or the partition's `end`: ends the turn if another
  /// partition waits.
  void after_take(std::size_t taken, std::size_t bytes, bool end);
  /// Takes every record librdkafka holds for the partition into `staged_`.
  void stage();
  void drop_staged();
  static void on_event(rd_kafka_t*, void* opaque);
  /// Seeks to `next` (the caller holds `ops_mx_`); null on success.
  error_ptr seek_locked(std::int64_t next, int timeout_ms);
  static void destroy_message(void* msg);
  std::size_t consume(std::size_t max);
  /// The consumer's position if it passed `next_to_take_`, which only
  /// transaction markers can do (records move both; a seek resets the
  /// position until the next record or marker), and makes it
  /// `next_to_take_`; else -1.
  std::int64_t past_markers();
  /// False for a consumer error (logged unless it is end-of-partition).
  bool to_event(const rd_kafka_message_t& msg, event& ev) const;

  rd_kafka_t* rk_;
  queue_ptr queue_;
  std::string topic_;
  partition_id partition_;
  topic_ptr rkt_;
  tpl_ptr tpl_;
  /// For `past_markers` (the partition actor's) alone: `tpl_` also serves
  /// pause and resume from the group thread.
  tpl_ptr position_;
  std::vector<rd_kafka_message_t*> batch_;
  fetch_gate* gate_;
  /// Gate only, the actor's: the records taken from librdkafka at a turn's
  /// end, not yet handed out; and whether the actor wants the partition
  /// fetched (not paused).
  std::deque<rd_kafka_message_t*> staged_;
  bool wants_ = true;
  /// For `queued_bytes` on the group thread: `staged_`'s size, and the mean
  /// key and value bytes of the last take's records.
  std::atomic<std::size_t> staged_count_{0};
  std::atomic<std::size_t> mean_bytes_{0};

  void (*notify_)(void*) = nullptr;
  void* notify_opaque_ = nullptr;
  /// The offset after the last record taken from librdkafka (staged ones
  /// too), or the last seek's; -1: none yet.
  std::atomic<std::int64_t> next_to_take_{-1};
  /// Held around every batch consume, pause, resume and seek of the
  /// partition, whatever the thread. librdkafka 2.0.2 (a known issue of
  /// 2.0.0, fixed in 2.1.0) moves the consumer's position past a record as
  /// it puts it in a batch; a pause, resume or seek that lands before the
  /// batch returns drops the record from it, and the position stays past it:
  /// a pause resumes there, and `past_markers` takes it for markers.
  /// `scripts/probes/batch_consume_during_pause.c` shows it. Also orders
  /// `seek` (actor) and `wake_fetcher` (group thread) seeks.
  std::mutex ops_mx_;
};

}  // namespace kactor::detail
