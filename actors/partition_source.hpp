#pragma once
// The narrow interface through which a partition actor takes its records
// and stores its offsets. src/group/ implements it over a librdkafka
// partition queue; tests implement it in memory.

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>

#include <kactor/event.hpp>
#include <kactor/types.hpp>

namespace kactor::detail {

/// Owns the buffer a record's event points into (a librdkafka message in
/// production, nothing in tests); released with the record slot.
using record_buffer = std::unique_ptr<void, void (*)(void*)>;

/// A record taken from the partition, with the buffer its event points into.
struct record_slot {
  event ev;
  record_buffer buffer{nullptr, [](void*) {}};
  std::chrono::steady_clock::time_point taken_at{};  // on the actor clock (see take())
};

/// Where a partition actor's records come from. Called on the partition
/// actor only.
class partition_source {
 public:
  virtual ~partition_source() = default;
  /// Appends up to `max` records without blocking; returns how many.
  virtual std::size_t take(std::size_t max, std::deque<record_slot>& out) = 0;
  /// Whether more records are already waiting.
  virtual bool has_backlog() = 0;
  virtual void pause() = 0;
  virtual void resume() = 0;
  /// Stores `next` as the offset to commit.
  virtual void store(kactor::offset next) = 0;
  /// Makes `next` the next record handed out (a restarted actor resumes from
  /// its predecessor's last stored offset) and resumes the partition.
  virtual void rewind(kactor::offset next) = 0;
  /// Resumes a partition paused before its first record, reading from
  /// `next`. By default as `rewind`; the Kafka source resumes first and then
  /// seeks, because librdkafka 2.0.2's resume alone leaves the fetcher idle
  /// for up to a second and a seek wakes it.
  virtual void resume_at(kactor::offset next) { rewind(next); }
};

}  // namespace kactor::detail
