#pragma once
// The bound on a partition actor's records and the pause/resume decisions it
// implies. Plain code so that unit tests call it directly.

#include <algorithm>
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
  mailbox_bound(std::size_t capacity, std::size_t resume_below, duration pause_after = {})
      : capacity_(std::max<std::size_t>(capacity, 1)),
        resume_below_(resume_below == 0 ? std::max<std::size_t>(capacity_ / 2, 1)
                                        : std::min(resume_below, capacity_)),
        pause_after_(pause_after) {}

  /// How many records the actor may take now.
  std::size_t room() const { return capacity_ - in_flight_; }

  /// `n` records were taken (n <= room()).
  void on_taken(std::size_t n) {
    in_flight_ += n;
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
    if (!paused_ && in_flight_ >= capacity_ && backlog && oldest_age >= pause_after_ &&
        (late_in_a_row_ >= late_slices || pause_after_ == duration::zero())) {
      paused_ = true;
      return action::pause;
    }
    return action::none;
  }

  /// `n` records were finished. A paused actor resumes below the low mark.
  action on_finished(std::size_t n) {
    in_flight_ -= std::min(n, in_flight_);
    if (paused_ && in_flight_ < resume_below_) {
      paused_ = false;
      return action::resume;
    }
    return action::none;
  }

  /// Unfinished records were dropped (the partition is being revoked).
  void on_dropped(std::size_t n) { in_flight_ -= std::min(n, in_flight_); }

  std::size_t resume_below() const { return resume_below_; }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t max_seen() const { return max_seen_; }
  bool paused() const { return paused_; }

 private:
  std::size_t capacity_;
  std::size_t resume_below_;
  duration pause_after_;
  std::size_t in_flight_ = 0;
  std::size_t max_seen_ = 0;
  bool paused_ = false;
  std::size_t late_in_a_row_ = 0;
};

}  // namespace kactor::detail
