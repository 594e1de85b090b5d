#pragma once
// Which of a consumer's partitions may fetch now: at most a fixed number at
// once, the others waiting in line for a turn. Plain code (no librdkafka) so
// that unit tests drive it; partition_queue is its member in production.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <vector>

namespace kactor::detail {

/// Lets at most `slots` partitions of one consumer fetch at a time, so that
/// what librdkafka holds for them stays within the agent's prefetch budget
/// whatever the partition count (issue 15): a fetch brings up to a whole
/// record batch per partition (1 MB from a librdkafka producer), and a batch
/// stays in memory until every record of it is handled, so 256 partitions
/// with a backlog and a slow handler each held a batch or two: 558 MiB of
/// growth under the default 256 MiB budget.
///
/// A member holds a slot while it fetches and while it still holds records
/// of its last fetch (it drains them paused). A member whose turn ends, or
/// that asks to fetch while every slot is held, waits in line; slots go to
/// the line in order. A turn lasts at least `min_turn`; after that it ends
/// when the member's actor takes records while others wait or more hold
/// slots than there are (`end_turn`),
/// or at the next `rotate` if the member caught up with its partition or
/// its actor took nothing for `stall` (held in a retry's backoff, say):
/// such a member is stopped, and librdkafka drops what it queued for it, to
/// fetch it again in a later turn.
///
/// `slots` is the worst case's count: every fetching member holding its
/// queue share and a whole fetch. Given `queue_bytes` (the queues' part of
/// the budget), the gate starts with every member fetching and lets what
/// they hold decide (`adapt`): it takes slots away, down to `slots`, when
/// they hold much, and lets more fetch again when they hold little. So
/// members whose handlers keep up never take turns, which cost.
///
/// Threads: any; one lock guards every member's gate state. `fetch` is
/// called with that lock held, on the thread whose call changed the gate.
/// The gate outlives its members.
class fetch_gate {
 public:
  using clock = std::chrono::steady_clock;

  /// A partition as the gate sees it.
  class member {
   public:
    virtual ~member() = default;
    /// Whether the member fetches now (relaxed; a hint for its own thread).
    bool fetching() const { return fetching_.load(std::memory_order_relaxed); }
    /// Marks the member caught up with its partition (it took the end of
    /// it) or not: `rotate` gives a caught-up member's slot to a waiting one.
    void caught_up(bool yes) { caught_up_.store(yes, std::memory_order_relaxed); }
    /// Its actor took records now (from librdkafka or from what its last
    /// turn left).
    void took() {
      last_take_.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    }
    /// What librdkafka queues and the member keeps for it, in bytes, roughly
    /// (any thread; `adapt` reads it on the group thread).
    virtual std::uint64_t queued_bytes() const = 0;

   protected:
    /// Starts (true) or stops (false) fetching the partition. Called with
    /// the gate's lock held; must not call into the gate. Starting, returns
    /// whether it also woke librdkafka's fetcher (which a resume alone does
    /// not: it may sleep up to a second); the gate then `nudge`s a paused one.
    virtual bool fetch(bool on) = 0;
    /// Wakes librdkafka's fetcher without changing what this paused
    /// partition fetches (a seek to where it stands); false if it cannot
    /// (it never took a record). Same calling rules as `fetch`.
    virtual bool nudge() = 0;

   private:
    friend class fetch_gate;
    enum class state { outside, idle, waiting, fetching, draining };
    state state_ = state::outside;
    bool wants_ = false;
    /// When its turn began (written under the lock) and when its actor last
    /// took records, steady_clock ticks.
    std::atomic<clock::rep> turn_began_{0};
    std::atomic<clock::rep> last_take_{0};
    std::atomic<bool> fetching_{false};
    std::atomic<bool> caught_up_{false};
  };

  /// `min_turn` and `stall`: see the class comment; 0 in tests.
  /// `queue_bytes`: 0 keeps the slots at `slots`, else they start unbounded.
  explicit fetch_gate(std::size_t slots, clock::duration min_turn = std::chrono::milliseconds(100),
                      clock::duration stall = std::chrono::seconds(1),
                      std::uint64_t queue_bytes = 0)
      : base_(slots == 0 ? 1 : slots),
        slots_(queue_bytes == 0 ? base_ : std::numeric_limits<std::size_t>::max()),
        min_turn_(min_turn),
        stall_(stall),
        queue_bytes_(queue_bytes) {}
  fetch_gate(const fetch_gate&) = delete;
  fetch_gate& operator=(const fetch_gate&) = delete;

  /// Whether a member waits for a slot, or more hold one than there are
  /// slots (relaxed): turns end.
  bool contended() const { return contended_.load(std::memory_order_relaxed); }

  /// A new member that wants to fetch: fetches at once if a slot is free
  /// and nobody waits, else stops and waits in line (`fetch` is called
  /// either way, so librdkafka's state is the gate's).
  void join(member& m);
  /// Leaves the gate (the partition was revoked): frees its slot or its
  /// place in line. No `fetch` call reaches `m` after it returns.
  void leave(member& m);
  /// The member's owner wants it to fetch (true: resumed, rewound) or not
  /// (false: paused); `holding`: it still holds records of an earlier fetch
  /// (it keeps its slot until it does not).
  void update(member& m, bool wants, bool holding);
  /// Ends `m`'s turn if it fetches, its turn lasted `min_turn` and another
  /// member waits or more hold slots than there are: `m` stops fetching
  /// and, unless `holding`, gives up its slot and waits in line again.
  /// Whether the turn ended. The caller takes what librdkafka queued for
  /// `m` before (stopping discards it) and calls `update` once it has
  /// handed those records out.
  bool end_turn(member& m, bool holding);
  /// Ends the turns, `min_turn` or older, of caught-up and stalled members
  /// if others wait or more hold slots than there are. Their actors take
  /// nothing to end them, so the group thread calls this on every pass of
  /// its loop (≤ 100 ms).
  void rotate();
  /// Sets the slots by what the fetching members hold (the sum of their
  /// `queued_bytes`). Over a quarter of `queue_bytes`, the slots shrink by
  /// as many members as, holding most, hold all but an eighth, to `slots`
  /// at least, and those members stop at once (librdkafka drops what it
  /// queued for them, fetched again in a later turn) and wait in line.
  /// Under a sixteenth, with members waiting, the slots double. Group
  /// thread, every 100 ms; nothing without `queue_bytes`.
  void adapt();
  /// Whether `m`'s turn lasted `min_turn` (relaxed; any thread).
  bool turn_over(const member& m) const {
    return clock::now().time_since_epoch().count() -
               m.turn_began_.load(std::memory_order_relaxed) >=
           min_turn_.count();
  }

  /// For tests: members fetching now, and waiting; the slots now.
  std::size_t fetching_count() const;
  std::size_t waiting_count() const;
  std::size_t slots() const;

 private:
  using state = member::state;
  /// Whether a member in `s` holds a slot.
  static bool holds(state s) { return s == state::fetching || s == state::draining; }
  void set(member& m, state s);
  /// Gives `m` a slot if one is free and nobody is ahead, else puts it in line.
  void enter(member& m);
  /// `m` gives up its slot; the slot goes to the line's first.
  void release(member& m);
  /// Stops a fetching `m`: it keeps its slot while `holding`, else releases it.
  void stop(member& m, bool holding);
  void grant_free_slots();
  /// Whether turns end: a member waits, or the slots shrank below the holders.
  bool crowded() const { return !line_.empty() || holders_.size() > slots_; }
  /// Stores `crowded()` in `contended_`; after every change of the line, the
  /// holders or the slots.
  void mark();
  /// `adapt`'s shrinking, with `held` bytes held: as many slots as the
  /// holders less those holding most, which stop and wait in line, until
  /// an eighth is held; never fewer than `base_`.
  void shrink(std::uint64_t held);
  void drop_from_line(member& m);
  /// After a partition started without waking the fetcher: a waiting
  /// partition wakes it, the latest in line first (it took records).
  void wake_fetcher();

  /// The worst case's slots, and the slots now (never fewer; unbounded until
  /// `adapt` first shrinks them).
  const std::size_t base_;
  std::size_t slots_;
  const clock::duration min_turn_;
  const clock::duration stall_;
  const std::uint64_t queue_bytes_;
  mutable std::mutex mx_;
  std::deque<member*> line_;
  /// The members holding a slot: fetching and draining ones.
  std::vector<member*> holders_;
  /// `crowded()`, for lock-free reads.
  std::atomic<bool> contended_{false};
  /// A partition started fetching but could not wake the fetcher itself.
  bool needs_wake_ = false;
};

}  // namespace kactor::detail
