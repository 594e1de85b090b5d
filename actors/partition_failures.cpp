// The partition actor's failure path: a failed record is retried after a
// backoff, or goes to the dead-letter topic (in smaller forms if the broker
// refuses it); a dead letter that cannot be written escalates; an output
// refused for good sends its record to the DLQ.

#include "actors/partition_actor_impl.hpp"

#include <algorithm>
#include <utility>

#include <caf/all.hpp>
#include <kactor/log.hpp>

#include "actors/failpoint.hpp"

namespace kactor::detail {

bool partition_actor::on_failure(record_slot& slot, error_info failure) {
  const auto now = wall_ms();
  if (cfg_.txn && (failure.cls == error_class::abortable || failure.cls == error_class::fatal)) {
    // The transaction or its producer failed, not the record: the group
    // thread aborts (or re-creates the producer) and rewinds; no attempt
    // is charged to the record and nothing goes to the DLQ.
    waits_.set(partition_wait::retry);
    cfg_.txn->report({input(slot.lane), kactor::offset{-1}, std::move(failure), now, {}});
    return false;
  }
  if (failing_.cause.attempts++ == 0) failing_.cause.first_ms = now;
  failing_.cause.last_ms = now;
  failing_.cause.error = std::move(failure);
  switch (next_step(failing_.cause.error.cls, failing_.cause.attempts, cfg_.policy.max_retries)) {
    case failure_step::retry:
      counters(slot.lane).retries.fetch_add(1, std::memory_order_relaxed);
      waits_.set(partition_wait::retry);
      if (cfg_.txn) {
        // Its emits are in the open transaction: only an abort undoes them.
        // The group thread aborts, rewinds every partition and counts the
        // attempts across transactions.
        cfg_.txn->report({input(slot.lane), slot.ev.offset(), failing_.cause.error, now, {}});
      } else {
        auto delay = backoff_.next(failing_.cause.attempts);
        warn("record {} failed (attempt {}), retrying in {} ms: {}", slot.ev.describe(),
             failing_.cause.attempts, delay.count(), failing_.cause.error.message);
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

void partition_actor::give_up(record_slot& slot) {
  warn("record {} goes to the dead-letter topic after {} attempt(s): {}", slot.ev.describe(),
       failing_.cause.attempts, failing_.cause.error.message);
  if (cfg_.timer_lane >= 0 && slot.lane == static_cast<std::uint32_t>(cfg_.timer_lane))
    discard_firing(slot.ev);
  write_dead_letter(slot);
  counters(slot.lane).failed.fetch_add(1, std::memory_order_relaxed);
}

void partition_actor::write_dead_letter(record_slot& slot) {
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

void partition_actor::send_dead_letter(pending_dead_letter& p) {
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
          [this](bool) {
            --dead_letter_requests_;
            answer_barrier();
          },
          [this, refused](caf::error& err) {
            --dead_letter_requests_;
            const auto& ctx = err.context();
            if (is(err, errc::write_refused) && ctx.match_elements<int, std::string>())
              refused(ctx.get_as<int>(0), ctx.get_as<std::string>(1));
            else
              refused(-1, "the dead-letter actor failed: " + to_string(err));
            answer_barrier();
          });
}

void partition_actor::dead_letter_refused(pending_dead_letter& p, int code, const std::string& what,
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
          waits_.set(partition_wait::retry);
          auto cause = d.cause;
          cause.form = next;
          cause.degraded_because = what;
          cfg_.txn->report(
              {topic_partition{d.topic, d.partition}, d.offset, d.cause.error, wall_ms(), cause});
          return;
        }
        warn("the dead letter of {} was refused ({}); writing it as {}", where, what,
             to_string(next));
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

void partition_actor::escalate(std::string cause) {
  phase_ = partition_phase::ended;
  counters().escalate(cause);
  quit(caf::make_error(caf::sec::runtime_error, std::move(cause)));
}

void partition_actor::settle_dead_letters() {
  for (auto it = dead_letters_.begin(); it != dead_letters_.end();) {
    auto* entry = it->record.token;
    if (it->due || entry->outstanding.load(std::memory_order_acquire) != 0) {
      ++it;
    } else if (entry->failed()) {
      // Reported once: a transient failure stays failed until its retry.
      if (!it->reported) {
        dead_letter_refused(*it, entry->error.load(std::memory_order_relaxed), entry->failure(),
                            false);
        if (ended()) return;
      }
      ++it;
    } else {
      failpoint("dead_letter_acked");  // written, offset not yet stored or committed
      entry->hold = false;
      counters(entry->lane).dead_lettered.fetch_add(1, std::memory_order_relaxed);
      it = dead_letters_.erase(it);
    }
  }
}

void partition_actor::block_for_dead_letters() {
  if (waiting(partition_wait::retry) || stopping()) return;
  std::size_t attempts = 1;
  for (auto& p : dead_letters_) attempts = std::max(attempts, p.attempts);
  waits_.set(partition_wait::retry);
  auto delay = backoff_.next(attempts);
  log_about(log_level::error, subject(),
            "a dead-letter write failed; the partition waits {} ms to retry", delay.count());
  delayed_send(this, delay, retry_atom::value);
}

void partition_actor::rewrite_failed_dead_letters() {
  for (auto& p : dead_letters_) {
    auto* entry = p.record.token;
    if (entry->outstanding.load(std::memory_order_acquire) == 0 && entry->failed())
      send_dead_letter(p);
  }
}

bool partition_actor::output_failed(const delivery_tracker::entry& e) {
  // Its dead letter's failures are `settle_dead_letters`' (exactly_once,
  // after a rewind: the aborted transaction's).
  if (e.dead_letter) return true;
  const int code = e.error.load(std::memory_order_relaxed);
  const bool for_good = classify_kafka_error(code) == error_class::irrecoverable;
  // An aborted transaction fails (purges) every record it held: no work.
  if (cfg_.txn && !for_good) return true;
  const auto& tp = input(e.lane);
  const auto where = to_string(tp, e.source);
  const auto now = wall_ms();
  const error_info why{error_class::irrecoverable, code,
                       "an output of record " + where + " was refused: " + e.failure()};
  if (cfg_.txn) {
    cfg_.txn->report(
        {tp, e.source, why, now, dead_letter_cause{why, 1, now, now, dead_letter_form::full, {}}});
    return true;
  }
  // A stopping actor reports the offset before it to the next owner.
  if (stopping()) return false;
  if (for_good) {
    warn("{}; it goes to the dead-letter topic", why.message);
    // Finished as failed, not processed: it is counted once, by its dead letter.
    counters(e.lane).processed.fetch_sub(1, std::memory_order_relaxed);
    (*cfg_.inputs[e.lane].poison)[e.source] =
        dead_letter_cause{why, 1, now, now, dead_letter_form::full, {}};
    quit(caf::make_error(caf::sec::runtime_error, why.message));
    phase_ = partition_phase::ended;
    return false;
  }
  throw kafka_exception(
      error_info{error_class::retriable, code,
                 "an output of record " + where + " was not delivered: " + e.failure()});
}

}  // namespace kactor::detail
