#include "actors/partition_actor.hpp"

#include <algorithm>
#include <exception>
#include <list>
#include <utility>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <kactor/dead_letter.hpp>

#include "actors/deferred_outputs.hpp"
#include "actors/mailbox_bound.hpp"
#include "actors/retry_policy.hpp"
#include "src/failpoint.hpp"

namespace kactor::detail {
namespace {

using clock_type = std::chrono::steady_clock;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class partition_actor;

/// The context handlers see: emits are tied to the record being handled.
class partition_context final : public context {
 public:
  partition_context(partition_actor* self, const partition_actor_config& cfg)
      : self_(self), agent_(cfg.agent), tp_(cfg.tp), sink_(cfg.sink) {}

  void emit(std::string_view topic, std::string_view key, std::string_view value,
            const headers& hdrs, partition_id partition) override {
    emits_ = true;
    if (current_) tracker_->add_emit(current_);
    if (deferred_) {
      deferred_->add(topic, partition, key, value, hdrs, current_);
      return;
    }
    try {
      sink_->emit(topic, partition, key, value, hdrs, current_);
    } catch (...) {
      if (current_) tracker_->cancel_emit(current_);
      throw;
    }
  }

  const std::string& agent() const override { return agent_; }
  const topic_partition& source() const override { return tp_; }
  caf::event_based_actor* self() override;

  delivery_tracker* tracker_ = nullptr;
  delivery_tracker::entry* current_ = nullptr;
  /// Set while a commit runs: emits are kept here instead of produced.
  deferred_outputs* deferred_ = nullptr;
  /// Whether the handler emitted anything yet: only such an actor waits for
  /// room in the producer.
  bool emits_ = false;

 private:
  partition_actor* self_;
  std::string agent_;
  topic_partition tp_;
  emit_sink* sink_;
};

/// The failures of the record at the front of the buffer, across retries.
struct failing_record {
  delivery_tracker::entry* entry = nullptr;
  dead_letter_cause cause;
};

/// A dead-letter write not yet acknowledged; kept to write it again.
struct pending_dead_letter {
  dead_letter record;
  std::size_t attempts = 0;
  /// Written during a commit: it goes to the producer on the release, with
  /// the kept outputs, into the next transaction.
  bool due = false;
  /// Its last failure was dealt with (see `dead_letter_refused`).
  bool reported = false;
};

class partition_actor final : public caf::event_based_actor {
 public:
  partition_actor(caf::actor_config& ac, partition_actor_config cfg)
      : caf::event_based_actor(ac),
        cfg_(std::move(cfg)),
        bound_(cfg_.max_poll_records, cfg_.resume_below, cfg_.pause_after),
        backoff_(cfg_.policy.backoff_base, cfg_.policy.backoff_max),
        ctx_(this, cfg_),
        record_msg_(caf::make_message(event{})) {}

  const char* name() const override { return "kactor.partition_actor"; }

  caf::behavior make_behavior() override {
    tracker_ = caf::make_counted<delivery_tracker>(
        caf::actor_cast<caf::weak_actor_ptr>(caf::actor_cast<caf::strong_actor_ptr>(this)));
    ctx_.tracker_ = tracker_.get();
    // Records the previous actor of this partition left to dead-letter.
    poison_.merge(*cfg_.poison);
    cfg_.poison->clear();
    user_ = cfg_.factory(ctx_);
    set_default_handler(
        [this](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
          auto msg = x.move_content_to_message();
          if (auto res = user_(msg)) return std::move(*res);
          spdlog::warn("agent {}: partition {}/{} has no handler for message {}", cfg_.agent,
                       cfg_.tp.topic, cfg_.tp.partition.value(), caf::to_string(msg));
          return caf::sec::unexpected_message;
        });
    // An exception escaping the behaviour (not a record handler: those are
    // caught and classified) ends this actor; the text travels in the down_msg.
    set_exception_handler([this](caf::scheduled_actor*, std::exception_ptr& ep) -> caf::error {
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        spdlog::error("agent {}: partition actor {}/{} failed: {}", cfg_.agent, cfg_.tp.topic,
                      cfg_.tp.partition.value(), e.what());
        return caf::make_error(caf::sec::runtime_error, e.what());
      } catch (...) {
        return caf::make_error(caf::sec::runtime_error, "unknown exception");
      }
    });
    if (cfg_.tick_every.count() > 0) delayed_send(this, cfg_.tick_every, tick_atom::value);
    return {
        [this](wake_atom) {
          take();
          schedule();
        },
        [this](process_atom) {
          scheduled_ = false;
          process_slice();
          take();
          schedule();
        },
        [this](room_atom) {
          waiting_for_room_ = false;
          take();
          schedule();
        },
        [this](retry_atom) {
          waiting_ = false;
          rewrite_failed_dead_letters();
          schedule();
        },
        [this](acked_atom) { on_acked(); },
        [this](tick_atom t) -> caf::result<caf::message> {
          if (stopping_) return caf::message{};
          delayed_send(this, cfg_.tick_every, tick_atom::value);
          auto msg = caf::make_message(t);
          if (auto res = user_(msg)) return std::move(*res);
          return caf::message{};
        },
        [this](txn_barrier_atom) {
          // Failures already reported by the producer go into this answer's
          // transaction cycle (the acknowledgements may still be queued
          // behind this urgent message).
          on_acked();
          if (quitting_) return;
          barrier_ = true;
          barrier_promise_ = make_response_promise();
          answer_barrier();
        },
        [this](txn_release_atom) {
          // The next transaction is open: what was handled meanwhile joins it.
          barrier_ = false;
          end_deferral();
          take();
          schedule();
        },
        [this](rewind_order& order) { rewind(order); },
        [this](stop_atom) {
          stopping_ = true;
          if (failing_.entry) {
            // The record in retry is not finished: nothing at or after it may
            // be committed; the next owner handles it again.
            failing_.entry->hold = true;
            tracker_->end(failing_.entry);
            failing_ = {};
          }
          bound_.on_dropped(buffer_.size());
          buffer_.clear();
          // Outputs of records the committed transaction does not cover: the
          // next owner handles those records again.
          drop_deferred();
          publish();
          stop_promise_ = make_response_promise();
          store_progress();
          maybe_finish_stop();
        },
    };
  }

  void on_exit() override {
    cfg_.counters->in_flight = 0;
    cfg_.counters->paused = false;
    ctx_.tracker_ = nullptr;
    tracker_.reset();
    user_ = caf::behavior{};
  }

 private:
  void take() {
    if (stopping_) return;
    // Record ages are on the actor clock (steady_clock; the test scheduler's
    // virtual time in tests); slices stay on steady_clock, they bound CPU time.
    const auto now = clock().now();
    // The first take() not held after one that was marks a hold's end: the
    // turns that begin, go on with or end a hold take, or schedule one that does.
    if (held())
      was_held_ = true;
    else if (std::exchange(was_held_, false))
      hold_ended_ = now;
    if (auto room = bound_.room(); room > 0) {
      const auto before = buffer_.size();
      if (auto n = cfg_.source->take(room, buffer_); n > 0) {
        for (auto i = before; i < buffer_.size(); ++i) buffer_[i].taken_at = now;
        bound_.on_taken(n);
        if (cfg_.counters->first_offset.load(std::memory_order_relaxed) < 0)
          cfg_.counters->first_offset.store(buffer_[before].ev.offset().value());
      }
    }
    // Held at a transaction barrier, the actor waits for the commit, not for a
    // slow handler: pausing would only make librdkafka 2.0.2 drop and fetch
    // again the prefetched records (memory stays bounded by the prefetch queue).
    if (bound_.room() == 0 && !buffer_.empty() && !held() &&
        bound_.evaluate(cfg_.source->has_backlog(),
                        now - std::max(buffer_.front().taken_at, hold_ended_)) ==
            mailbox_bound::action::pause) {
      cfg_.source->pause();
      cfg_.counters->pauses.fetch_add(1, std::memory_order_relaxed);
    }
    publish();
  }

  void schedule() {
    if (scheduled_ || stopping_) return;
    if (can_hand_over() || (!buffer_.empty() && !waiting_ && !held())) {
      scheduled_ = true;
      send(this, process_atom::value);
    }
  }

  void process_slice() {
    auto deadline = clock_type::now() + cfg_.slice;
    if (can_hand_over()) {
      hand_over(deadline);
      return;
    }
    // Once per slice, not per record (rd_kafka_outq_len takes two locks): the
    // queue's last tenth holds far more than one slice of every actor emits.
    // Outputs kept during a commit do not reach the producer yet.
    if (ctx_.emits_ && !deferring() && cfg_.sink->saturated()) {
      wait_for_room();
      return;
    }
    std::size_t done = 0;
    while (!buffer_.empty() && !stopping_ && !waiting_ && !held()) {
      if (!handle(buffer_.front())) break;  // failed: retry after a backoff
      buffer_.pop_front();
      ++done;
      if (clock_type::now() >= deadline) break;
    }
    if (done == 0) return;
    if (bound_.on_finished(done) == mailbox_bound::action::resume) {
      cfg_.source->resume();
      cfg_.counters->resumes.fetch_add(1, std::memory_order_relaxed);
    }
    publish();
    store_progress();
  }

  /// Runs the handler on `slot`; false when the record failed and waits for a
  /// retry (it stays at the front of the buffer).
  bool handle(record_slot& slot) {
    const auto off = slot.ev.offset();
    if (!failing_.entry) {
      if (off < next_expected_) {
        // librdkafka re-delivered a record this actor already handled (it can
        // after pause/resume); handling it again would only duplicate output.
        cfg_.counters->duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
      next_expected_ = kactor::offset{off.value() + 1};
      failing_.entry = tracker_->begin(off);
      if (auto p = poison_.find(off.value()); p != poison_.end()) {
        // It failed in earlier, aborted transactions until out of retries.
        failing_.cause = std::move(p->second);
        poison_.erase(p);
        give_up(slot);
        eos_next_ = off.value() + 1;
        return true;
      }
    }
    ctx_.current_ = failing_.entry;
    error_info failure;
    bool ok = false;
    try {
      record_msg_.get_mutable_as<event>(0) = slot.ev;
      if (user_(record_msg_))
        ok = true;
      else
        failure = {error_class::irrecoverable, 0, "no handler of the agent accepts the record"};
    } catch (const irrecoverable_error& e) {
      failure = {error_class::irrecoverable, 0, e.what()};
    } catch (const kafka_exception& e) {
      failure = e.info();
    } catch (const std::exception& e) {
      failure = {error_class::retriable, 0, e.what()};
    } catch (...) {
      failure = {error_class::retriable, 0, "unknown exception"};
    }
    ctx_.current_ = nullptr;
    if (ok) {
      tracker_->end(failing_.entry);
      failing_ = {};
      cfg_.counters->processed.fetch_add(1, std::memory_order_relaxed);
      eos_next_ = off.value() + 1;
      return true;
    }
    const bool done = on_failure(slot, std::move(failure));
    if (done) eos_next_ = off.value() + 1;
    return done;
  }

  bool on_failure(record_slot& slot, error_info failure) {
    const auto now = wall_ms();
    if (cfg_.txn && (failure.cls == error_class::abortable || failure.cls == error_class::fatal)) {
      // The transaction or its producer failed, not the record: the group
      // thread aborts (or re-creates the producer) and rewinds; no attempt
      // is charged to the record and nothing goes to the DLQ.
      waiting_ = true;
      cfg_.txn->report({cfg_.tp, -1, std::move(failure), now, {}});
      return false;
    }
    if (failing_.cause.attempts++ == 0) failing_.cause.first_ms = now;
    failing_.cause.last_ms = now;
    failing_.cause.error = std::move(failure);
    switch (next_step(failing_.cause.error.cls, failing_.cause.attempts, cfg_.policy.max_retries)) {
      case failure_step::retry:
        cfg_.counters->retries.fetch_add(1, std::memory_order_relaxed);
        waiting_ = true;
        if (cfg_.txn) {
          // Its emits are in the open transaction: only an abort undoes them.
          // The group thread aborts, rewinds every partition and counts the
          // attempts across transactions.
          cfg_.txn->report({cfg_.tp, slot.ev.offset().value(), failing_.cause.error, now, {}});
        } else {
          auto delay = backoff_.next(failing_.cause.attempts);
          spdlog::warn("agent {}: record {} failed (attempt {}), retrying in {} ms: {}", cfg_.agent,
                       slot.ev.describe(), failing_.cause.attempts, delay.count(),
                       failing_.cause.error.message);
          delayed_send(this, delay, retry_atom::value);
        }
        return false;
      case failure_step::crash:
        throw kafka_exception(failing_.cause.error);
      case failure_step::dead_letter:
        break;
    }
    give_up(slot);
    return true;
  }

  /// The failing record goes to the dead-letter topic; the partition goes on.
  void give_up(record_slot& slot) {
    spdlog::warn("agent {}: record {} goes to the dead-letter topic after {} attempt(s): {}",
                 cfg_.agent, slot.ev.describe(), failing_.cause.attempts,
                 failing_.cause.error.message);
    write_dead_letter(slot);
    cfg_.counters->failed.fetch_add(1, std::memory_order_relaxed);
  }

  void write_dead_letter(record_slot& slot) {
    auto* entry = failing_.entry;
    entry->hold = true;
    entry->dead_letter = true;
    pending_dead_letter p;
    auto& d = p.record;
    d.topic = std::string(slot.ev.topic());
    d.partition = slot.ev.partition();
    d.offset = slot.ev.offset();
    d.timestamp_ms = slot.ev.timestamp_ms();
    d.key = std::string(slot.ev.key());
    d.value = std::string(slot.ev.value());
    d.hdrs = slot.ev.all_headers();
    d.agent = cfg_.agent;
    d.cause = std::move(failing_.cause);
    d.token = entry;
    dead_letters_.push_back(std::move(p));
    send_dead_letter(dead_letters_.back());
    tracker_->end(entry);  // the handler is done with it; the write is not
    failing_ = {};
  }

  void send_dead_letter(pending_dead_letter& p) {
    auto* entry = p.record.token;
    entry->clear_failure();
    // Never into the transaction that is committing (its offsets do not
    // cover the record): with the kept outputs, on the release.
    p.reported = false;
    p.due = deferring();
    if (p.due) return;
    ++p.attempts;
    tracker_->add_emit(entry);
    ++dead_letter_requests_;
    auto refused = [this, entry](int code, std::string what) {
      tracker_->cancel_emit(entry);
      auto it = std::find_if(dead_letters_.begin(), dead_letters_.end(),
                             [entry](const auto& x) { return x.record.token == entry; });
      if (it != dead_letters_.end()) dead_letter_refused(*it, code, what, true);
    };
    request(cfg_.dead_letters, caf::infinite, p.record)
        .then(
            [this, refused](int code, std::string& what) {
              --dead_letter_requests_;
              if (code != 0) refused(code, std::move(what));
              answer_barrier();
            },
            [this, refused](caf::error& err) {
              --dead_letter_requests_;
              refused(-1, "the dead-letter actor failed: " + to_string(err));
              answer_barrier();
            });
  }

  /// A dead-letter write failed: at once (`at_once`: librdkafka refused it)
  /// or in its delivery report. What a retry can change decides: a transient
  /// failure is retried after a backoff (the partition waits); a record too
  /// large or invalid for the topic is written again in the next smaller
  /// form; a topic that cannot take it (or even the smallest form refused)
  /// escalates.
  void dead_letter_refused(pending_dead_letter& p, int code, const std::string& what,
                           bool at_once) {
    p.reported = true;
    auto& d = p.record;
    const auto where = to_string(topic_partition{d.topic, d.partition}, d.offset);
    switch (classify_write_failure(code)) {
      case write_failure::record:
        if (d.cause.form != dead_letter_form::minimal) {
          const auto next = static_cast<dead_letter_form>(static_cast<int>(d.cause.form) + 1);
          if (cfg_.txn && !at_once) {
            // The broker refused it inside the open transaction, which must
            // abort now: the next pass writes the smaller form.
            waiting_ = true;
            auto cause = d.cause;
            cause.form = next;
            cause.degraded_because = what;
            cfg_.txn->report({cfg_.tp, d.offset.value(), d.cause.error, wall_ms(), cause});
            return;
          }
          spdlog::warn("agent {}: the dead letter of {} was refused ({}); writing it as {}",
                       cfg_.agent, where, what, to_string(next));
          d.cause.form = next;
          d.cause.degraded_because = what;
          send_dead_letter(p);
          return;
        }
        [[fallthrough]];
      case write_failure::destination:
        escalate("the dead letter of " + where + " cannot be written: " + what);
        return;
      case write_failure::transient:
        d.token->fail(code, what);
        block_for_dead_letters();
        return;
    }
  }

  /// The partition cannot go on: nothing it would dead-letter can be
  /// written. The actor ends; its supervisor pauses the partition and marks
  /// the agent unhealthy with `cause`. Nothing after the stored offset is
  /// lost: the partition's next owner (or a restart) reads it again.
  void escalate(std::string cause) {
    quitting_ = true;
    cfg_.counters->escalate(cause);
    quit(caf::make_error(caf::sec::runtime_error, std::move(cause)));
  }

  /// exactly_once: the offset may be committed only with every dead letter
  /// before it in the same transaction, i.e. handed to the producer.
  ///
  /// The actor does not wait for the commit: it goes on handling records and
  /// keeps their outputs (`deferred_`) until the release, when the next
  /// transaction is open. A barrier that comes before that release (the last
  /// commit failed, or a revocation) gets the offset the deferral started at.
  void answer_barrier() {
    if (!barrier_ || !barrier_promise_.pending() || dead_letter_requests_ > 0 || handing_over())
      return;
    if (!deferring()) {
      deferred_from_ = eos_next_;
      ctx_.deferred_ = &deferred_;
    }
    barrier_promise_.deliver(deferred_from_);
    barrier_ = false;
    schedule();
  }

  /// Whether the actor handles no record: answering a barrier, waiting for
  /// room in the producer, waiting for an abort, keeping as many bytes of
  /// deferred outputs as it may, or handing kept outputs over (those come
  /// first, in order).
  /// Held, it does not pause its partition: librdkafka 2.0.2 would drop the
  /// prefetched records and fetch them again.
  bool held() const {
    return barrier_ || waiting_for_room_ || handing_over() || txn_holds() ||
           (deferring() && deferred_.bytes() >= cfg_.max_deferred_bytes);
  }

  /// exactly_once: the open transaction aborts and every partition rewinds
  /// (a record started now would only run again, and a failure it reported
  /// after the group thread counted attempts would slip past the retry
  /// limit), or the rewind's retry backoff has not passed yet.
  bool txn_holds() const { return cfg_.txn && cfg_.txn->holds(); }

  /// exactly_once: released, with kept outputs not yet handed to the producer.
  bool handing_over() const { return !deferring() && handed_ < deferred_.size(); }
  /// Outputs of records already handled go over even while a failed record
  /// waits (for its rewind or a dead-letter retry): a barrier waits for them.
  bool can_hand_over() const { return handing_over() && !waiting_for_room_; }

  void wait_for_room() {
    waiting_for_room_ = true;
    delayed_send(this, cfg_.room_poll, room_atom::value);
  }

  /// exactly_once: between a barrier's answer and the release (outputs kept).
  bool deferring() const { return ctx_.deferred_ != nullptr; }

  /// exactly_once release: the next transaction is open. The first kept
  /// output goes to the producer at once: a partition joins a transaction
  /// (AddPartitionsToTxn) only once librdkafka has a record for it, and
  /// librdkafka registers partitions in waves, one request at a time, so
  /// every actor marks its output partition before any actor hands over the
  /// rest. The rest follows in slices, as the producer has room.
  void end_deferral() {
    if (!deferring()) return;
    ctx_.deferred_ = nullptr;
    handed_ = 0;
    for (auto& p : dead_letters_)
      if (p.due) send_dead_letter(p);
    if (!deferred_.empty()) hand_over_one();
    finish_hand_over();
  }

  /// Hands kept outputs to the producer until none is left, the slice ends
  /// or the producer is nearly full (then again after `room_poll`).
  void hand_over(clock_type::time_point deadline) {
    constexpr std::size_t check_every = 512;  // outputs between two looks at the queue
    while (handing_over()) {
      if (cfg_.sink->saturated()) {
        wait_for_room();
        return;
      }
      const auto end = std::min(deferred_.size(), handed_ + check_every);
      while (handed_ < end && handing_over()) hand_over_one();
      if (clock_type::now() >= deadline) break;
    }
    finish_hand_over();
  }

  void hand_over_one() {
    const auto d = deferred_[handed_];
    try {
      cfg_.sink->emit(d.topic, d.partition, d.key, d.value, d.hdrs, d.token);
      ++handed_;
    } catch (const kafka_exception& e) {
      // As a producer error inside a handler: the transaction fails, not a
      // record. The group thread aborts and rewinds.
      drop_deferred();
      waiting_ = true;
      cfg_.txn->report({cfg_.tp, -1, e.info(), wall_ms(), {}});
    }
  }

  /// After the last kept output: the buffer is reused by the next deferral,
  /// and a barrier that came meanwhile gets its answer.
  void finish_hand_over() {
    if (deferring() || handing_over()) return;
    deferred_.clear();
    handed_ = 0;
    answer_barrier();
  }

  /// Forgets the kept outputs; those not handed over were never produced.
  void drop_deferred() {
    for (auto i = handed_; i < deferred_.size(); ++i)
      if (auto* token = deferred_[i].token) tracker_->cancel_emit(token);
    deferred_.clear();
    handed_ = 0;
  }

  /// exactly_once: the transaction was aborted; read again from `order.to`.
  void rewind(const rewind_order& order) {
    bound_.on_dropped(buffer_.size());
    buffer_.clear();
    drop_deferred();
    if (failing_.entry) {
      tracker_->end(failing_.entry);
      failing_ = {};
    }
    for (auto& p : dead_letters_) p.record.token->hold = false;
    dead_letters_.clear();
    waiting_ = false;
    next_expected_ = kactor::offset{-1};
    poison_ = order.poison;
    if (order.to >= 0) {
      eos_next_ = order.to;
      cfg_.source->rewind(kactor::offset{order.to});
    }
    deferred_from_ = eos_next_;
    publish();
  }

  /// Acknowledged writes release their records; failed ones are written
  /// again (see `dead_letter_refused`) and hold the partition until then.
  void settle_dead_letters() {
    for (auto it = dead_letters_.begin(); it != dead_letters_.end();) {
      auto* entry = it->record.token;
      if (it->due || entry->outstanding.load(std::memory_order_acquire) != 0) {
        ++it;
      } else if (entry->failed()) {
        // Reported once: a transient failure stays failed until its retry.
        if (!it->reported) {
          dead_letter_refused(*it, entry->error.load(std::memory_order_relaxed), entry->failure(),
                              false);
          if (quitting_) return;
        }
        ++it;
      } else {
        failpoint("dead_letter_acked");  // written, offset not yet stored or committed
        entry->hold = false;
        cfg_.counters->dead_lettered.fetch_add(1, std::memory_order_relaxed);
        it = dead_letters_.erase(it);
      }
    }
  }

  void block_for_dead_letters() {
    if (waiting_ || stopping_) return;
    std::size_t attempts = 1;
    for (auto& p : dead_letters_) attempts = std::max(attempts, p.attempts);
    waiting_ = true;
    auto delay = backoff_.next(attempts);
    spdlog::error("agent {}: a dead-letter write for {}/{} failed; partition waits {} ms to retry",
                  cfg_.agent, cfg_.tp.topic, cfg_.tp.partition.value(), delay.count());
    delayed_send(this, delay, retry_atom::value);
  }

  void rewrite_failed_dead_letters() {
    for (auto& p : dead_letters_) {
      auto* entry = p.record.token;
      if (entry->outstanding.load(std::memory_order_acquire) == 0 && entry->failed())
        send_dead_letter(p);
    }
  }

  void on_acked() {
    tracker_->acknowledge_wake();
    settle_dead_letters();
    store_progress();
    maybe_finish_stop();
  }

  void store_progress() {
    if (!tracker_ || quitting_) return;
    for (;;) {
      auto progress = tracker_->advance(true);
      if (progress.next) store(*progress.next);
      if (!progress.failed || !output_failed(*progress.failed)) return;
      store(tracker_->pop_failed());
    }
  }

  void store(kactor::offset next) {
    cfg_.source->store(next);
    cfg_.counters->stored_offset.store(next.value(), std::memory_order_relaxed);
  }

  /// An output of the record at `e` was not delivered. Returns whether the
  /// stored offset may pass it.
  ///
  /// exactly_once: its transaction fails as a whole and is aborted; an
  /// output refused for good (a topic that does not exist, a record too large
  /// for it) also sends the record to the DLQ on the next pass.
  /// at_least_once: the offset must not pass a record whose output is not in
  /// Kafka. Refused for good, the record goes to the DLQ: this actor ends and
  /// the next one, reading again from the stored offset, dead-letters it
  /// without running the handler. Otherwise the supervisor restarts the
  /// partition from the stored offset, so the record runs again (its outputs
  /// may be written twice: at-least-once).
  bool output_failed(const delivery_tracker::entry& e) {
    // Its dead letter's failures are `settle_dead_letters`' (exactly_once,
    // after a rewind: the aborted transaction's).
    if (e.dead_letter) return true;
    const int code = e.error.load(std::memory_order_relaxed);
    const bool for_good = classify_kafka_error(code) == error_class::irrecoverable;
    // An aborted transaction fails (purges) every record it held: no work.
    if (cfg_.txn && !for_good) return true;
    const auto where = to_string(cfg_.tp, e.source);
    const auto now = wall_ms();
    const error_info why{error_class::irrecoverable, code,
                         "an output of record " + where + " was refused: " + e.failure()};
    if (cfg_.txn) {
      cfg_.txn->report({cfg_.tp, e.source.value(), why, now,
                        dead_letter_cause{why, 1, now, now, dead_letter_form::full, {}}});
      return true;
    }
    // A stopping actor reports the offset before it to the next owner.
    if (stopping_) return false;
    if (for_good) {
      spdlog::warn("agent {}: {}; it goes to the dead-letter topic", cfg_.agent, why.message);
      (*cfg_.poison)[e.source.value()] =
          dead_letter_cause{why, 1, now, now, dead_letter_form::full, {}};
      quit(caf::make_error(caf::sec::runtime_error, why.message));
      quitting_ = true;
      return false;
    }
    throw kafka_exception(
        error_info{error_class::retriable, code,
                   "an output of record " + where + " was not delivered: " + e.failure()});
  }

  void maybe_finish_stop() {
    if (!stopping_ || !stop_promise_.pending() || !tracker_->settled()) return;
    stop_promise_.deliver(cfg_.counters->stored_offset.load(std::memory_order_relaxed));
    quit();
  }

  void publish() {
    auto& c = *cfg_.counters;
    c.in_flight.store(bound_.in_flight(), std::memory_order_relaxed);
    if (bound_.max_seen() > c.max_in_flight.load(std::memory_order_relaxed))
      c.max_in_flight.store(bound_.max_seen(), std::memory_order_relaxed);
    c.paused.store(bound_.paused(), std::memory_order_relaxed);
  }

  partition_actor_config cfg_;
  mailbox_bound bound_;
  backoff backoff_;
  partition_context ctx_;
  caf::message record_msg_;
  caf::behavior user_;
  delivery_tracker_ptr tracker_;
  std::deque<record_slot> buffer_;
  failing_record failing_;
  std::list<pending_dead_letter> dead_letters_;
  kactor::offset next_expected_{-1};
  bool scheduled_ = false;
  bool waiting_ = false;
  bool waiting_for_room_ = false;
  /// When the actor last stopped being held (see held()). pause_after counts
  /// from then at the earliest: that time was the commit's or the
  /// producer's, not the handler's, and a pause would only make librdkafka
  /// drop the prefetch and fetch it again.
  caf::actor_clock::time_point hold_ended_{};
  bool was_held_ = false;  // at the last take()
  bool stopping_ = false;
  bool quitting_ = false;  // quit() was called: nothing more to do
  // exactly_once
  bool barrier_ = false;
  caf::response_promise barrier_promise_;
  std::int64_t eos_next_ = -1;
  std::int64_t deferred_from_ = -1;
  deferred_outputs deferred_;
  /// After a release: how many kept outputs went to the producer so far.
  std::size_t handed_ = 0;
  std::size_t dead_letter_requests_ = 0;
  poison_map poison_;
  caf::response_promise stop_promise_;
};

caf::event_based_actor* partition_context::self() {
  return self_;
}

}  // namespace

caf::actor spawn_partition_actor(caf::actor_system& sys, partition_actor_config cfg) {
  return sys.spawn<partition_actor>(std::move(cfg));
}

}  // namespace kactor::detail
