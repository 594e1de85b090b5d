#pragma once
// Where the Kafka layer meets the actors: the partition actor's
// `partition_source` over a librdkafka partition queue, and its `emit_sink`
// over a producer whose delivery reports go to the records' delivery trackers.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/delivery_tracker.hpp"
#include "actors/emit_sink.hpp"
#include "actors/partition_source.hpp"
#include "src/group/lane_merge.hpp"
#include "src/kafka/partition_queue.hpp"
#include "src/kafka/producer.hpp"

namespace kactor::detail {

/// Feeds a partition actor from its task's librdkafka partition queues, one
/// per lane (most tasks have one).
class queue_source final : public partition_source {
 public:
  /// `queues[i]` is lane i's; each outlives the source.
  explicit queue_source(std::vector<partition_queue*> queues)
      : queues_(std::move(queues)),
        merge_(queues_.size() > 1 ? std::make_unique<lane_merge>(queues_.size()) : nullptr) {}

  std::size_t take(std::size_t max, std::deque<record_slot>& out) override {
    if (queues_.size() == 1) return take_lane(0, max, out);
    return merge(max, out);
  }
  bool has_backlog() override {
    if (merge_ && merge_->any_staged()) return true;
    for (auto* q : queues_)
      if (q->has_backlog()) return true;
    return false;
  }
  void pause() override {
    for (auto* q : queues_) q->pause();
  }
  void resume() override {
    for (auto* q : queues_) q->resume();
  }
  void resume_at(std::uint32_t lane, kactor::offset next) override {
    drop_staged(lane);
    queues_[lane]->resume_at(next);
  }
  void store(std::uint32_t lane, kactor::offset next) override { queues_[lane]->store(next); }
  void rewind(std::uint32_t lane, kactor::offset next) override {
    drop_staged(lane);
    queues_[lane]->seek(next);  // resumes the lane
    for (std::uint32_t other = 0; other < queues_.size(); ++other)
      if (other != lane) queues_[other]->resume();
  }

 private:
  std::size_t take_lane(std::uint32_t lane, std::size_t max, std::deque<record_slot>& out) {
    auto& q = *queues_[lane];
    return q.take(
        max,
        [&out, lane](const event& ev, opaque_message msg) {
          out.push_back(record_slot{ev, std::move(msg), {}, lane});
        },
        [&out, &q, lane](kactor::offset last) {
          record_slot slot;
          slot.ev = q.markers_event(last);
          slot.lane = lane;
          slot.markers = true;
          out.push_back(std::move(slot));
        });
  }
  /// Several lanes: each lane's records are staged (up to `max` a lane, so
  /// the source holds at most lanes × max_poll_records besides librdkafka's
  /// queues) and merged by timestamp.
  std::size_t merge(std::size_t max, std::deque<record_slot>& out) {
    for (std::uint32_t lane = 0; lane < queues_.size(); ++lane) {
      auto& staged = merge_->staged(lane);
      if (staged.size() < max) take_lane(lane, max - staged.size(), staged);
    }
    return merge_->hand_out(max, out);
  }
  void drop_staged(std::uint32_t lane) {
    if (merge_) merge_->drop(lane);
  }

  std::vector<partition_queue*> queues_;
  /// Several lanes only.
  std::unique_ptr<lane_merge> merge_;
};

/// A producer's delivery report, for records whose token is a delivery
/// tracker entry (every record a partition or dead-letter actor produces).
inline void report_to_tracker(void* token, int code, std::string_view what) {
  delivery_tracker::delivered(static_cast<delivery_tracker::entry*>(token), code, what);
}

/// Partition actors' emits, into a producer made with `report_to_tracker`.
class producer_sink final : public emit_sink {
 public:
  explicit producer_sink(shared_producer& producer) : producer_(producer) {}

  void emit(std::string_view topic, partition_id partition, std::string_view key,
            std::string_view value, const headers& hdrs, delivery_tracker::entry* token) override {
    producer_.produce(topic, partition, key, value, hdrs, token);
  }
  bool saturated() const override { return producer_.saturated(); }
  void when_room(std::function<void()> wake) override { producer_.when_room(std::move(wake)); }

 private:
  shared_producer& producer_;
};

}  // namespace kactor::detail
