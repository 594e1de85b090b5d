#pragma once
// The narrow interface through which a partition actor takes its records
// and stores its offsets. src/group/ implements it over librdkafka partition
// queues; tests implement it in memory.
//
// A partition actor serves a task: partition p of each of its agent's input
// topics (one for most agents; every input of an agent with state stores,
// whose state must sit with partition p of each). Lane i is the task's i-th
// input; offsets are per lane.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

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
  /// The task's input the record came from.
  std::uint32_t lane = 0;
  /// Not a record: librdkafka consumed transaction markers (control
  /// records) up to and including `ev.offset()` after the lane's last
  /// record. Finished at once in its turn, so the offset to commit passes
  /// them and an idle partition written by transactions shows lag 0.
  bool markers = false;
};

/// The most inputs one task may have (a delivery tracker's lanes fit one word).
constexpr std::size_t max_task_inputs = 64;

/// A task's offsets, by lane (-1: none for that input).
struct lane_offsets {
  std::vector<kactor::offset> next;
};

/// Where a partition actor's records come from. Called on the partition
/// actor only.
class partition_source {
 public:
  virtual ~partition_source() = default;
  /// Appends up to `max` records without blocking, each with its lane;
  /// returns how many. With several lanes waiting, the record with the
  /// lowest timestamp comes first (as Kafka Streams picks).
  virtual std::size_t take(std::size_t max, std::deque<record_slot>& out) = 0;
  /// Whether more records are already waiting (on any lane).
  virtual bool has_backlog() = 0;
  /// Pauses (resumes) every lane.
  virtual void pause() = 0;
  virtual void resume() = 0;
  /// Stores `next` as lane `lane`'s offset to commit.
  virtual void store(std::uint32_t lane, kactor::offset next) = 0;
  /// Makes `next` the next record of lane `lane` handed out (a restarted
  /// actor resumes from its predecessor's last stored offset); records of
  /// the lane taken from Kafka but not handed out yet are dropped. Resumes
  /// every lane.
  virtual void rewind(std::uint32_t lane, kactor::offset next) = 0;
  /// Resumes a lane paused before its first record, reading from `next`. By
  /// default as `rewind`; the Kafka source resumes first and then seeks,
  /// because librdkafka 2.0.2's resume alone leaves the fetcher idle for up
  /// to a second and a seek wakes it.
  virtual void resume_at(std::uint32_t lane, kactor::offset next) { rewind(lane, next); }
};

}  // namespace kactor::detail
