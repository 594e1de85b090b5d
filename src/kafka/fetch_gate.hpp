#pragma once
// Which of a consumer's partitions may fetch now: at most a fixed number at
// once, the others waiting in line for a turn. Plain code (no librdkafka) so
// that unit tests drive it; partition_queue is its member in production.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
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
/// when the member's actor takes records while others wait (`end_turn`),
/// or at the next `rotate` if the member caught up with its partition or
/// its actor took nothing for `stall` (held in a retry's backoff, say):
/// such a member is stopped, and librdkafka drops what it queued for it, to
/// fetch it again in a later turn.
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
  explicit fetch_gate(std::size_t slots, clock::duration min_turn = std::chrono::milliseconds(100),
                      clock::duration stall = std::chrono::seconds(1))
      : slots_(slots == 0 ? 1 : slots), min_turn_(min_turn), stall_(stall) {}
  fetch_gate(const fetch_gate&) = delete;
  fetch_gate& operator=(const fetch_gate&) = delete;

  /// Whether a member waits for a slot (relaxed).
  bool contended() const { return waiting_.load(std::memory_order_relaxed) > 0; }

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
  /// member waits: `m` stops fetching and, unless `holding`, gives up its
  /// slot and waits in line again. Whether the turn ended. The caller takes
  /// what librdkafka queued for `m` before (stopping discards it) and calls
  /// `update` once it has handed those records out.
  bool end_turn(member& m, bool holding);
  /// Ends the turns, `min_turn` or older, of caught-up and stalled members
  /// if others wait. Their actors take nothing to end them, so the group
  /// thread calls this on every pass of its loop (≤ 100 ms).
  void rotate();
  /// Whether `m`'s turn lasted `min_turn` (relaxed; any thread).
  bool turn_over(const member& m) const {
    return clock::now().time_since_epoch().count() -
               m.turn_began_.load(std::memory_order_relaxed) >=
           min_turn_.count();
  }

  /// For tests: members fetching now, and waiting.
  std::size_t fetching_count() const;
  std::size_t waiting_count() const;

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
  void drop_from_line(member& m);
  /// After a partition started without waking the fetcher: a waiting
  /// partition wakes it, the latest in line first (it took records).
  void wake_fetcher();

  const std::size_t slots_;
  const clock::duration min_turn_;
  const clock::duration stall_;
  mutable std::mutex mx_;
  std::deque<member*> line_;
  /// The members holding a slot: fetching and draining ones.
  std::vector<member*> holders_;
  std::atomic<std::size_t> waiting_{0};
  /// A partition started fetching but could not wake the fetcher itself.
  bool needs_wake_ = false;
};

}  // namespace kactor::detail
