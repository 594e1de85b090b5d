#pragma once
// Where the Kafka layer meets the actors: the partition actor's
// `partition_source` over a librdkafka partition queue, and its `emit_sink`
// over a producer whose delivery reports go to the records' delivery trackers.

#include <cstddef>
#include <deque>
#include <memory>
#include <string_view>

#include "actors/delivery_tracker.hpp"
#include "actors/emit_sink.hpp"
#include "actors/partition_source.hpp"
#include "src/kafka/partition_queue.hpp"
#include "src/kafka/producer.hpp"

namespace kactor::detail {

/// Feeds a partition actor from its partition's own librdkafka queue.
class queue_source final : public partition_source {
 public:
  explicit queue_source(partition_queue& queue) : queue_(queue) {}

  std::size_t take(std::size_t max, std::deque<record_slot>& out) override {
    return queue_.take(max, [&out](const event& ev, opaque_message msg) {
      out.push_back(record_slot{ev, std::move(msg)});
    });
  }
  bool has_backlog() override { return queue_.has_backlog(); }
  void pause() override { queue_.pause(); }
  void resume() override { queue_.resume(); }
  void resume_at(kactor::offset next) override { queue_.resume_at(next); }
  void store(kactor::offset next) override { queue_.store(next); }
  void rewind(kactor::offset next) override { queue_.seek(next); }

 private:
  partition_queue& queue_;
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
