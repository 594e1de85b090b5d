#include "actors/partition_actor_impl.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <caf/all.hpp>
#include <kactor/log.hpp>

namespace kactor::detail {

partition_actor::partition_actor(caf::actor_config& ac, partition_actor_config cfg)
    : caf::event_based_actor(ac),
      cfg_(std::move(cfg)),
      bound_(cfg_.max_poll_records, cfg_.resume_below, cfg_.pause_after, cfg_.in_flight_share),
      backoff_(cfg_.policy.backoff_base, cfg_.policy.backoff_max),
      ctx_(this, cfg_),
      record_msg_(caf::make_message(event{})),
      lanes_(cfg_.inputs.size()),
      lanes_without_first_(cfg_.inputs.size() >= 64
                               ? ~std::uint64_t{0}
                               : (std::uint64_t{1} << cfg_.inputs.size()) - 1) {}

std::int64_t partition_actor::wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

caf::event_based_actor* partition_context::self() {
  return self_;
}

caf::behavior partition_actor::make_behavior() {
  tracker_ = caf::make_counted<delivery_tracker>(
      caf::actor_cast<caf::weak_actor_ptr>(caf::actor_cast<caf::strong_actor_ptr>(this)));
  ctx_.tracker_ = tracker_.get();
  // Records the previous actor of this task left to dead-letter.
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    lanes_[i].poison.merge(*cfg_.inputs[i].poison);
    cfg_.inputs[i].poison->clear();
  }
  wall_base_ms_ = wall_ms();
  clock_base_ = clock().now();
  if (cfg_.state) await_stores();
  user_ = cfg_.factory(ctx_);
  install_handlers();
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
        waits_.clear(partition_wait::room);
        take();
        schedule();
      },
      [this](retry_atom) {
        waits_.clear(partition_wait::retry);
        rewrite_failed_dead_letters();
        schedule();
      },
      [this](restored_atom) {
        bind_stores();
        waits_.clear(partition_wait::restore);
        // Lanes without a committed offset start where the consumer's reset
        // policy says; the others at their offsets.
        cfg_.source->resume();
        for (std::uint32_t lane = 0; lane < lanes_.size(); ++lane)
          if (const auto at = cfg_.state->resume_at(lane); at.value() >= 0)
            cfg_.source->resume_at(lane, at);
        take();
        schedule();
      },
      [this](acked_atom) { on_acked(); },
      [this](timer_check_atom, std::uint64_t arming) {
        if (arming == arming_) check_timers();
      },
      [this](tick_atom t) -> caf::result<caf::message> {
        if (stopping()) return caf::message{};
        delayed_send(this, cfg_.tick_every, tick_atom::value);
        auto msg = caf::make_message(t);
        if (auto res = user_(msg)) return std::move(*res);
        return caf::message{};
      },
      [this](txn_barrier_atom) { on_barrier(); },
      [this](txn_release_atom) {
        // The next transaction is open: what was handled meanwhile joins it.
        waits_.clear(partition_wait::barrier);
        end_deferral();
        take();
        schedule();
      },
      [this](task_rewind& order) { rewind(order); },
      [this](stop_atom) { on_stop(); },
  };
}

void partition_actor::install_handlers() {
  set_default_handler(
      [this](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
        auto msg = x.move_content_to_message();
        if (auto res = user_(msg)) return std::move(*res);
        warn("no handler for message {}", caf::to_string(msg));
        return caf::sec::unexpected_message;
      });
  // An exception escaping the behaviour (not a record handler: those are
  // caught and classified) ends this actor; the text travels in the down_msg.
  set_exception_handler([this](caf::scheduled_actor*, std::exception_ptr& ep) -> caf::error {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      log_about(log_level::error, subject(), "partition actor failed: {}", e.what());
      return caf::make_error(caf::sec::runtime_error, e.what());
    } catch (...) {
      return caf::make_error(caf::sec::runtime_error, "unknown exception");
    }
  });
}

void partition_actor::on_stop() {
  phase_ = partition_phase::stopping;
  if (failing_.entry) {
    // The record in retry is not finished: nothing at or after it may
    // be committed; the next owner handles it again.
    failing_.entry->hold = true;
    tracker_->end(failing_.entry);
    failing_ = {};
  }
  drop_buffer();
  // Outputs of records the committed transaction does not cover: the
  // next owner handles those records again; so are the stores' writes.
  drop_deferred();
  if (cfg_.txn && cfg_.state) cfg_.state->roll_back(offsets(&partition_counters::committed_offset));
  publish();
  stop_promise_ = make_response_promise();
  store_progress();
  maybe_finish_stop();
}

void partition_actor::on_exit() {
  counters().in_flight = 0;
  counters().paused = false;
  ctx_.tracker_ = nullptr;
  tracker_.reset();
  user_ = caf::behavior{};
}

void partition_actor::await_stores() {
  if (cfg_.state->ready()) {
    bind_stores();
    return;
  }
  waits_.set(partition_wait::restore);
  // Nothing is taken until the stores are restored: fetched records would
  // only wait in librdkafka's queue, each holding its whole fetch response
  // (256 restoring partitions held ~110 MB that way in
  // store_memory_kafka_test). Paused before much is fetched, the partition
  // loses at most its first fetch.
  cfg_.source->pause();
  cfg_.state->when_ready(
      [self = caf::actor_cast<caf::weak_actor_ptr>(caf::actor_cast<caf::strong_actor_ptr>(this))] {
        if (auto a = self.lock())
          caf::anon_send(caf::actor_cast<caf::actor>(a), restored_atom::value);
      });
}

void partition_actor::bind_stores() {
  // A store's changelog record goes out as an output of the record being
  // handled, to the changelog partition of the task's number.
  cfg_.state->bind([this, partition = input().partition](
                       const std::string& topic, std::string_view key, std::string_view value) {
    // exactly_once tells whether a store's writes committed by the offsets
    // of the records that made them; a write outside a record (a tick) has none.
    if (cfg_.txn && !ctx_.current_)
      throw std::logic_error("exactly_once: agent " + cfg_.agent +
                             " writes a store outside a record handler (a tick?); its stores "
                             "are written from record handlers only");
    ctx_.emit(topic, key, value, {}, partition);
  });
  bind_timers();
}

void partition_actor::take() {
  // Restoring, the partition is paused (await_stores).
  if (stopping() || waiting(partition_wait::restore)) return;
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
      std::size_t bytes = 0;
      for (auto i = before; i < buffer_.size(); ++i) {
        auto& slot = buffer_[i];
        slot.taken_at = now;
        bytes += slot_bytes(slot);
        if (!slot.markers && lanes_without_first_ >> slot.lane & 1) {
          lanes_without_first_ &= ~(std::uint64_t{1} << slot.lane);
          auto& first = counters(slot.lane).first_offset;
          if (first.load(std::memory_order_relaxed) < 0) first.store(slot.ev.offset().value());
        }
      }
      bound_.on_taken(n, bytes);
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
    counters().pauses.fetch_add(1, std::memory_order_relaxed);
  }
  publish();
}

void partition_actor::drop_buffer() {
  std::size_t bytes = 0;
  for (const auto& slot : buffer_) bytes += slot_bytes(slot);
  bound_.on_dropped(buffer_.size(), bytes);
  buffer_.clear();
}

void partition_actor::schedule() {
  if (scheduled_ || stopping()) return;
  if (can_hand_over() || (!buffer_.empty() && !waiting(partition_wait::retry) && !held())) {
    scheduled_ = true;
    send(this, process_atom::value);
  }
}

void partition_actor::process_slice() {
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
  std::size_t done = 0, done_bytes = 0;
  bool late = false;
  while (!buffer_.empty() && !stopping() && !waiting(partition_wait::retry) && !held()) {
    if (!handle(buffer_.front())) break;  // failed: retry after a backoff
    done_bytes += slot_bytes(buffer_.front());
    buffer_.pop_front();
    ++done;
    if ((late = clock_type::now() >= deadline)) break;
  }
  if (done == 0) return;
  bound_.on_slice_ended(late && !buffer_.empty());
  if (bound_.on_finished(done, done_bytes) == mailbox_bound::action::resume) {
    cfg_.source->resume();
    counters().resumes.fetch_add(1, std::memory_order_relaxed);
  }
  publish();
  store_progress();
}

bool partition_actor::handle(record_slot& slot) {
  const auto off = slot.ev.offset();
  auto& lane = lanes_[slot.lane];
  if (slot.markers) {
    // Finished in its turn: the lane's offset to store moves past them
    // once every record before them is finished.
    if (off >= lane.next_expected) {
      lane.next_expected = next(off);
      tracker_->end(tracker_->begin(slot.lane, off));
      lane.eos_next = next(off);
    }
    return true;
  }
  if (!failing_.entry) {
    if (off < lane.next_expected) {
      // librdkafka re-delivered a record this actor already handled (it can
      // after pause/resume); handling it again would only duplicate output.
      counters(slot.lane).duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    lane.next_expected = next(off);
    failing_.entry = tracker_->begin(slot.lane, off);
    if (auto p = lane.poison.find(off); p != lane.poison.end()) {
      // It failed in earlier, aborted transactions until out of retries.
      failing_.cause = std::move(p->second);
      lane.poison.erase(p);
      give_up(slot);
      lane.eos_next = next(off);
      return true;
    }
  }
  ctx_.current_ = failing_.entry;
  error_info failure;
  bool ok = false;
  const auto began = std::chrono::steady_clock::now();
  try {
    if (internal_lane(slot.lane)) {
      deliver_internal(slot);
      ok = true;
    } else {
      record_msg_.get_mutable_as<event>(0) = slot.ev;
      if (user_(record_msg_))
        ok = true;
      else
        failure = {error_class::irrecoverable, 0, "no handler of the agent accepts the record"};
    }
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
  counters(slot.lane).handler_latency.observe(std::chrono::steady_clock::now() - began);
  if (ok) {
    tracker_->end(failing_.entry);
    failing_ = {};
    counters(slot.lane).processed.fetch_add(1, std::memory_order_relaxed);
    lane.eos_next = next(off);
    return true;
  }
  const bool done = on_failure(slot, std::move(failure));
  if (done) lane.eos_next = next(off);
  return done;
}

void partition_actor::wait_for_room() {
  if (waiting(partition_wait::room)) return;  // one wake is on its way
  waits_.set(partition_wait::room);
  cfg_.sink->when_room(
      [self = caf::actor_cast<caf::weak_actor_ptr>(caf::actor_cast<caf::strong_actor_ptr>(this))] {
        if (auto a = self.lock()) caf::anon_send(caf::actor_cast<caf::actor>(a), room_atom::value);
      });
}

bool partition_actor::held() const {
  return waiting(partition_wait::barrier) || waiting(partition_wait::room) || handing_over() ||
         txn_holds() || (deferring() && deferred_.bytes() >= deferred_limit());
}

std::size_t partition_actor::deferred_limit() const {
  if (!cfg_.in_flight_share) return cfg_.max_deferred_bytes;
  return std::min(cfg_.max_deferred_bytes, cfg_.in_flight_share->load(std::memory_order_relaxed));
}

void partition_actor::on_acked() {
  tracker_->acknowledge_wake();
  settle_dead_letters();
  store_progress();
  maybe_finish_stop();
}

void partition_actor::store_progress() {
  if (!tracker_ || ended()) return;
  for (;;) {
    auto progress = tracker_->advance(true);
    store_lanes(progress.moved);
    if (!progress.failed || !output_failed(*progress.failed)) return;
    store_lanes(tracker_->pop_failed());
  }
}

void partition_actor::store_lanes(std::uint64_t lanes) {
  for (std::uint32_t lane = 0; lanes != 0; ++lane, lanes >>= 1)
    if (lanes & 1) store(lane, tracker_->next(lane));
}

void partition_actor::store(std::uint32_t lane, kactor::offset next) {
  cfg_.source->store(lane, next);
  counters(lane).stored_offset.store(next.value(), std::memory_order_relaxed);
}

lane_offsets partition_actor::offsets(std::atomic<std::int64_t> partition_counters::*which) const {
  lane_offsets out;
  out.next.reserve(cfg_.inputs.size());
  for (const auto& in : cfg_.inputs)
    out.next.emplace_back((*in.counters.*which).load(std::memory_order_relaxed));
  return out;
}

void partition_actor::maybe_finish_stop() {
  if (!stopping() || !stop_promise_.pending() || !tracker_->settled()) return;
  // Reports that came after the caller's last advance, before `settled`,
  // finished records it left unpopped; their outputs and store writes are in
  // Kafka, so the answer must cover them, or the next owner handles them
  // again onto a store restored with their writes.
  store_progress();
  stop_promise_.deliver(offsets(&partition_counters::stored_offset));
  quit();
}

void partition_actor::publish() {
  auto& c = counters();
  c.in_flight.store(bound_.in_flight(), std::memory_order_relaxed);
  if (bound_.max_seen() > c.max_in_flight.load(std::memory_order_relaxed))
    c.max_in_flight.store(bound_.max_seen(), std::memory_order_relaxed);
  c.paused.store(bound_.paused(), std::memory_order_relaxed);
}

caf::actor spawn_partition_actor(caf::actor_system& sys, partition_actor_config cfg) {
  return sys.spawn<partition_actor>(std::move(cfg));
}

}  // namespace kactor::detail
