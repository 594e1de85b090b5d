// exactly_once, group thread: the consumer group's transaction cycle. A
// barrier stops every partition actor between records, the open transaction
// commits with their offsets (or aborts, or a new producer settles it), and
// the actors are released or rewound. The actors' side is in
// actors/partition_actor.cpp (barrier, deferral, rewind).

#include "src/group/consumer_group.hpp"

#include <caf/all.hpp>
#include <kactor/log.hpp>

namespace kactor::detail {

std::uint64_t consumer_group::handled() const {
  std::uint64_t n = 0;
  std::lock_guard lock(counters_mx_);
  for (const auto& [tp, c] : counters_)
    n += c->processed.load(std::memory_order_relaxed) + c->failed.load(std::memory_order_relaxed);
  return n;
}

std::optional<partition_offsets> consumer_group::barrier(caf::scoped_actor& self) {
  std::optional<partition_offsets> out;
  self->request(supervisor_, std::chrono::seconds(60), txn_barrier_atom::value)
      .receive([&](partition_offsets& r) { out = std::move(r); },
               [&](caf::error& err) {
                 log_about(log_level::error, {def_.cfg.name}, "transaction barrier: {}",
                           to_string(err));
               });
  return out;
}

void consumer_group::release(caf::scoped_actor& self) {
  self->send(supervisor_, txn_release_atom::value);
}

void consumer_group::transaction_cycle(bool release_after) {
  caf::scoped_actor self{sys_};
  using std::chrono::steady_clock;
  const auto asked = steady_clock::now();
  auto offsets = barrier(self);
  const auto answered = steady_clock::now();
  if (broken()) {
    recover(self, {error_class::fatal, 0, "the transactional producer is not usable yet"});
  } else if (!offsets || txn_->abort_requested) {
    abort_and_rewind(self);
  } else {
    auto tpl = make_tpl(static_cast<int>(offsets->offsets.size()));
    bool moved = txn_producer_->emitted() != emitted_at_commit_;
    for (const auto& [tp, next] : offsets->offsets) {
      if (next.value() < 0) continue;
      rd_kafka_topic_partition_list_add(tpl.get(), tp.topic.c_str(), tp.partition.value())->offset =
          next.value();
      moved = moved || next.value() != counters_for(tp)->committed_offset.load();
    }
    // Nothing handled and nothing written since the last commit: the open
    // transaction is empty (no request reached the coordinator yet); keep it.
    if (!moved) {
      if (release_after) release(self);
      return;
    }
    emitted_at_commit_ = txn_producer_->emitted();
    group_metadata_ptr metadata{rd_kafka_consumer_group_metadata(rk_.get())};
    if (auto err = txn_producer_->commit_transaction(tpl.get(), metadata.get())) {
      auto info = make_error(err.get(), "agent " + def_.cfg.name + ": commit transaction");
      if (info.cls == error_class::abortable) {
        log(log_level::warn, "{}; aborting", info.message);
        abort_and_rewind(self);
      } else {
        // Fenced or fatal, or retriable: a commit that timed out may still
        // land, even on a later transaction of this producer. Nothing goes
        // on until a new producer has settled it.
        recover(self, info);
      }
    } else {
      for (const auto& [tp, next] : offsets->offsets) {
        if (next.value() < 0) continue;
        counters_for(tp)->committed_offset = next.value();
        for (auto it = failed_records_.begin(); it != failed_records_.end();)
          it = it->first.first == tp && it->first.second < next ? failed_records_.erase(it)
                                                                : std::next(it);
      }
      transactions_committed_.fetch_add(1, std::memory_order_relaxed);
      auto us = [](steady_clock::duration d) {
        return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
      };
      barrier_wait_us_.fetch_add(us(answered - asked), std::memory_order_relaxed);
      const auto committing = steady_clock::now() - answered;
      commit_time_us_.fetch_add(us(committing), std::memory_order_relaxed);
      commit_latency_.observe(committing);
    }
  }
  if (release_after && !broken()) release(self);
}

std::size_t consumer_group::count_failures(caf::scoped_actor& self) {
  // No partition actor starts a record from now until the rewind; a second
  // barrier waits for the records they are in, so every failure of the
  // aborted pass is counted before the rewind decides which records are out
  // of retries.
  txn_->request_abort();
  barrier(self);
  std::size_t worst = 1;
  for (auto& f : txn_->take()) {
    // Offset -1: the transaction or its producer failed, not a record.
    if (f.offset.value() < 0) {
      log_about(log_level::warn, {def_.cfg.name}, "{}: transaction aborted: {}", to_string(f.tp),
                f.error.message);
      continue;
    }
    auto& r = failed_records_[{f.tp, f.offset}];
    if (f.set_aside) {
      r = failed_record{*f.set_aside, true};
      log_about(log_level::warn, {def_.cfg.name},
                "record {} goes to the dead-letter topic; transaction aborted: {}",
                to_string(f.tp, f.offset), f.error.message);
      continue;
    }
    auto& p = r.poison;
    if (p.attempts++ == 0) p.first_ms = f.at_ms;
    p.last_ms = f.at_ms;
    p.error = f.error;
    worst = std::max(worst, p.attempts);
    log_about(log_level::warn, {def_.cfg.name},
              "record {} failed (attempt {}); transaction aborted: {}", to_string(f.tp, f.offset),
              p.attempts, f.error.message);
  }
  return worst;
}

void consumer_group::abort_and_rewind(caf::scoped_actor& self) {
  const auto worst = count_failures(self);
  if (auto err = txn_producer_->abort_transaction()) {
    recover(self, make_error(err.get(), "agent " + def_.cfg.name + ": abort transaction"));
    return;
  }
  transactions_aborted_.fetch_add(1, std::memory_order_relaxed);
  rewind_all(self, {}, worst);
}

bool consumer_group::recover(caf::scoped_actor& self, const error_info& why) {
  log(log_level::warn, "{}; re-creating the transactional producer", why.message);
  const auto worst = count_failures(self);
  try {
    txn_producer_->reset();
  } catch (const kafka_exception& e) {
    log_about(log_level::error, {def_.cfg.name}, "{}; trying again", e.what());
    ++failed_recoveries_;
    return false;
  }
  producer_resets_.fetch_add(1, std::memory_order_relaxed);
  // The old transaction is settled now, committed or aborted: the group's
  // committed offsets (fetched stable, KIP-447) say which.
  auto tpl = make_tpl(static_cast<int>(assigned_.size()));
  for (const auto& [key, task] : assigned_)
    for (const auto& tp : task->inputs)
      rd_kafka_topic_partition_list_add(tpl.get(), tp.topic.c_str(), tp.partition.value());
  std::map<topic_partition, kactor::offset> positions;
  if (tpl->cnt > 0) {
    if (auto err = rd_kafka_committed(rk_.get(), tpl.get(), 30000)) {
      log_about(log_level::error, {def_.cfg.name},
                "committed offsets after re-creating the producer: {}; trying again",
                rd_kafka_err2str(err));
      ++failed_recoveries_;
      return false;
    }
    for (int i = 0; i < tpl->cnt; ++i) {
      const auto& p = tpl->elems[i];
      if (p.err || p.offset < 0) continue;
      positions[to_tp(p)] = kactor::offset{p.offset};
      counters_for(to_tp(p))->committed_offset = p.offset;
    }
  }
  failed_recoveries_ = 0;
  transactions_aborted_.fetch_add(1, std::memory_order_relaxed);
  rewind_all(self, positions, worst);
  return true;
}

void consumer_group::rewind_all(caf::scoped_actor& self,
                                const std::map<topic_partition, kactor::offset>& positions,
                                std::size_t attempts) {
  rewind_orders orders;
  std::vector<topic_partition> inputs;
  for (const auto& [key, task] : assigned_)
    inputs.insert(inputs.end(), task->inputs.begin(), task->inputs.end());
  for (const auto& tp : inputs) {
    const auto& c = *counters_for(tp);
    rewind_order o;
    if (auto it = positions.find(tp); it != positions.end())
      o.to = it->second;
    else
      o.to = kactor::offset{c.committed_offset.load() >= 0 ? c.committed_offset.load()
                                                           : c.first_offset.load()};
    // A record out of retries goes to the DLQ on the next pass; the entry
    // stays until a transaction that skips it commits (another partition's
    // failure may abort that one too).
    for (const auto& [key, r] : failed_records_)
      if (key.first == tp && (r.set_aside || r.poison.attempts > def_.cfg.supervision.max_retries))
        o.poison[key.second] = r.poison;
    orders.orders.emplace_back(tp, std::move(o));
  }
  // The same backoff as retries in place before the failed record runs again,
  // with everything after its partition's and the other partitions' last
  // commit. The group thread goes on polling; run() ends the hold.
  txn_->hold_for_backoff();
  backoff_until_ = std::chrono::steady_clock::now() + backoff_.next(attempts);
  self->request(supervisor_, std::chrono::seconds(60), std::move(orders))
      .receive([](bool) {},
               [&](caf::error& err) {
                 log_about(log_level::error, {def_.cfg.name}, "rewind: {}", to_string(err));
               });
  txn_->resume();
}

}  // namespace kactor::detail
