#pragma once
// The bound on a partition actor's records and the pause/resume decisions it
// implies. Plain code so that unit tests call it directly.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>

namespace kactor::detail {

class mailbox_bound {
 public:
  enum class action { none, pause, resume };

  using duration = std::chrono::steady_clock::duration;

  /// `capacity` is max_poll_records; a full actor pauses once its oldest held
  /// record has waited `pause_after` and its handler is behind (see
  /// `on_slice_ended`; 0: as soon as it is full); a paused partition resumes once
  /// fewer than `resume_below` records are held (0 means capacity / 2, at
  /// least 1).
  ///
  /// `byte_share` (null: none) bounds the held records' bytes as well
  /// (`held_bytes` each): its owner, the agent's `in_flight_budget`,
  /// re-divides it whenever the group's assignment changes, and it is read
  /// on every `room()`. The actor then counts as full at its share, and
  /// resumes only under half of it.
  mailbox_bound(std::size_t capacity, std::size_t resume_below, duration pause_after = {},
                const std::atomic<std::size_t>* byte_share = nullptr)
      : capacity_(std::max<std::size_t>(capacity, 1)),
        resume_below_(resume_below == 0 ? std::max<std::size_t>(capacity_ / 2, 1)
                                        : std::min(resume_below, capacity_)),
        pause_after_(pause_after),
        byte_share_(byte_share) {}

  /// How many records the actor may take now: within the capacity and, by
  /// the size of the records it took last, within its byte share (one
  /// record while it has taken none, and always one while under the share,
  /// so that records larger than a share still pass one at a time).
  std::size_t room() const {
    const auto by_count = capacity_ - in_flight_;
    if (!byte_share_ || by_count == 0) return by_count;
    const auto share = byte_share_->load(std::memory_order_relaxed);
    if (bytes_ >= share) return 0;
    if (last_record_bytes_ == 0) return 1;
    return std::clamp<std::size_t>((share - bytes_) / last_record_bytes_, 1, by_count);
  }

  /// `n` records of `bytes` in all were taken (n <= room()).
  void on_taken(std::size_t n, std::size_t bytes = 0) {
    in_flight_ += n;
    bytes_ += bytes;
    if (n > 0 && bytes > 0) last_record_bytes_ = std::max<std::size_t>(bytes / n, 1);
    max_seen_ = std::max(max_seen_, in_flight_);
  }

  /// A slice of handling ended at its deadline with records still held
  /// (`late`), or with none left. An actor whose slices end late `late_slices`
  /// times in a row is behind: its handler does not keep up. Records that
  /// wait while an actor that finishes what it holds in its slices waits for
  /// its next turn wait for their share of the workers: with hundreds of
  /// partitions per worker that wait passes any `pause_after`, and pausing
  /// then only made librdkafka 2.0.2 drop the partition's prefetch and fetch
  /// it again (issue 15). One late slice is not enough: a worker preempted
  /// by another thread ends a slice late too.
  void on_slice_ended(bool late) { late_in_a_row_ = late ? late_in_a_row_ + 1 : 0; }

  static constexpr std::size_t late_slices = 3;

  /// Whether to pause now: the actor is full, more records are waiting
  /// (`backlog`), its oldest record has waited `oldest_age` and (unless
  /// `pause_after` is 0) its handler is behind.
  action evaluate(bool backlog, duration oldest_age) {
    if (!paused_ && full() && backlog && oldest_age >= pause_after_ &&
        (late_in_a_row_ >= late_slices || pause_after_ == duration::zero())) {
      paused_ = true;
      return action::pause;
    }
    return action::none;
  }

  /// `n` records of `bytes` in all were finished. A paused actor resumes
  /// below the low mark (and under half its byte share).
  action on_finished(std::size_t n, std::size_t bytes = 0) {
    in_flight_ -= std::min(n, in_flight_);
    bytes_ -= std::min(bytes, bytes_);
    if (paused_ && in_flight_ < resume_below_ &&
        (!byte_share_ || bytes_ < byte_share_->load(std::memory_order_relaxed) / 2)) {
      paused_ = false;
      return action::resume;
    }
    return action::none;
  }

  /// Unfinished records (`bytes` in all) were dropped (the partition is
  /// being revoked or rewound).
  void on_dropped(std::size_t n, std::size_t bytes = 0) {
    in_flight_ -= std::min(n, in_flight_);
    bytes_ -= std::min(bytes, bytes_);
  }

  std::size_t resume_below() const { return resume_below_; }
  std::size_t in_flight() const { return in_flight_; }
  /// The held records' bytes, as `on_taken` and the rest were told.
  std::size_t in_flight_bytes() const { return bytes_; }
  std::size_t max_seen() const { return max_seen_; }
  bool paused() const { return paused_; }

 private:
  bool full() const {
    return in_flight_ >= capacity_ ||
           (byte_share_ && bytes_ >= byte_share_->load(std::memory_order_relaxed));
  }

  std::size_t capacity_;
  std::size_t resume_below_;
  duration pause_after_;
  const std::atomic<std::size_t>* byte_share_;
  std::size_t in_flight_ = 0;
  std::size_t bytes_ = 0;
  /// The average size of the records of the last take (0: none yet).
  std::size_t last_record_bytes_ = 0;
  std::size_t max_seen_ = 0;
  bool paused_ = false;
  std::size_t late_in_a_row_ = 0;
};

}  // namespace kactor::detail
