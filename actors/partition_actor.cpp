#include "actors/partition_actor.hpp"

#include <exception>
#include <utility>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/mailbox_bound.hpp"

namespace kactor::detail {
namespace {

using clock_type = std::chrono::steady_clock;

class partition_actor;

/// The context handlers see: emits are tied to the record being handled.
class partition_context final : public context {
 public:
  partition_context(partition_actor* self, const partition_actor_config& cfg)
      : self_(self), agent_(cfg.agent), tp_(cfg.tp), sink_(cfg.sink) {}

  void emit(std::string_view topic, std::string_view key, std::string_view value,
            const headers& hdrs, partition_id partition) override {
    if (current_) tracker_->add_emit(current_);
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

 private:
  partition_actor* self_;
  std::string agent_;
  topic_partition tp_;
  emit_sink* sink_;
};

class partition_actor final : public caf::event_based_actor {
 public:
  partition_actor(caf::actor_config& ac, partition_actor_config cfg)
      : caf::event_based_actor(ac),
        cfg_(std::move(cfg)),
        bound_(cfg_.max_poll_records, cfg_.resume_below, cfg_.pause_after),
        ctx_(this, cfg_),
        record_msg_(caf::make_message(event{})) {}

  const char* name() const override { return "kactor.partition_actor"; }

  caf::behavior make_behavior() override {
    tracker_ = caf::make_counted<delivery_tracker>(
        caf::actor_cast<caf::weak_actor_ptr>(caf::actor_cast<caf::strong_actor_ptr>(this)));
    ctx_.tracker_ = tracker_.get();
    user_ = cfg_.factory(ctx_);
    set_default_handler(
        [this](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
          auto msg = x.move_content_to_message();
          if (auto res = user_(msg)) return std::move(*res);
          spdlog::warn("agent {}: partition {}/{} has no handler for message {}", cfg_.agent,
                       cfg_.tp.topic, cfg_.tp.partition.value(), caf::to_string(msg));
          return caf::sec::unexpected_message;
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
        [this](acked_atom) {
          tracker_->acknowledge_wake();
          store_progress();
          maybe_finish_stop();
        },
        [this](tick_atom t) -> caf::result<caf::message> {
          if (stopping_) return caf::message{};
          delayed_send(this, cfg_.tick_every, tick_atom::value);
          auto msg = caf::make_message(t);
          if (auto res = user_(msg)) return std::move(*res);
          return caf::message{};
        },
        [this](stop_atom) {
          stopping_ = true;
          bound_.on_dropped(buffer_.size());
          buffer_.clear();
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
    const auto now = clock_type::now();
    if (auto room = bound_.room(); room > 0) {
      const auto before = buffer_.size();
      if (auto n = cfg_.source->take(room, buffer_); n > 0) {
        for (auto i = before; i < buffer_.size(); ++i) buffer_[i].taken_at = now;
        bound_.on_taken(n);
      }
    }
    if (bound_.room() == 0 && !buffer_.empty() &&
        bound_.evaluate(cfg_.source->has_backlog(), now - buffer_.front().taken_at) ==
            mailbox_bound::action::pause) {
      cfg_.source->pause();
      cfg_.counters->pauses.fetch_add(1, std::memory_order_relaxed);
    }
    publish();
  }

  void schedule() {
    if (!buffer_.empty() && !scheduled_ && !stopping_) {
      scheduled_ = true;
      send(this, process_atom::value);
    }
  }

  void process_slice() {
    auto deadline = clock_type::now() + cfg_.slice;
    std::size_t done = 0;
    while (!buffer_.empty() && !stopping_) {
      handle(buffer_.front());
      buffer_.pop_front();
      ++done;
      if (clock_type::now() >= deadline) break;
    }
    if (done == 0) return;
    if (bound_.on_finished(done) == mailbox_bound::action::resume) {
      cfg_.source->resume();
      cfg_.counters->resumes.fetch_add(1, std::memory_order_relaxed);
    }
    cfg_.counters->last_processed_ms.store(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - cfg_.epoch)
            .count(),
        std::memory_order_relaxed);
    publish();
    store_progress();
  }

  void handle(record_slot& slot) {
    const auto off = slot.ev.offset();
    if (off < next_expected_) {
      // librdkafka re-delivered a record this actor already handled (it can
      // after pause/resume); handling it again would only duplicate output.
      cfg_.counters->duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    next_expected_ = kactor::offset{off.value() + 1};
    auto* entry = tracker_->begin(off);
    ctx_.current_ = entry;
    bool ok = false;
    try {
      record_msg_.get_mutable_as<event>(0) = slot.ev;
      if (user_(record_msg_)) {
        ok = true;
      } else {
        spdlog::warn("agent {}: no handler accepts record {}", cfg_.agent, slot.ev.describe());
      }
    } catch (const irrecoverable_error& e) {
      spdlog::warn("agent {}: record {} is irrecoverable: {}", cfg_.agent, slot.ev.describe(),
                   e.what());
    } catch (const std::exception& e) {
      spdlog::warn("agent {}: handler failed on record {}: {}", cfg_.agent, slot.ev.describe(),
                   e.what());
    } catch (...) {
      spdlog::warn("agent {}: handler failed on record {} (unknown exception)", cfg_.agent,
                   slot.ev.describe());
    }
    ctx_.current_ = nullptr;
    tracker_->end(entry);
    (ok ? cfg_.counters->processed : cfg_.counters->failed).fetch_add(1, std::memory_order_relaxed);
  }

  void store_progress() {
    if (!tracker_) return;
    if (auto next = tracker_->advance()) {
      cfg_.source->store(*next);
      cfg_.counters->stored_offset.store(next->value(), std::memory_order_relaxed);
    }
  }

  void maybe_finish_stop() {
    if (!stopping_ || !stop_promise_.pending() || tracker_->pending() > 0) return;
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
  partition_context ctx_;
  caf::message record_msg_;
  caf::behavior user_;
  delivery_tracker_ptr tracker_;
  std::deque<record_slot> buffer_;
  kactor::offset next_expected_{-1};
  bool scheduled_ = false;
  bool stopping_ = false;
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
