// A task's state stores: restore from the changelogs, checkpoints while the
// task runs (at_least_once) and on close.

#include "src/group/task_stores.hpp"

#include <chrono>

#include <rocksdb/write_batch.h>

#include <kactor/log.hpp>

#include "state/batch_writer.hpp"
#include "state/checkpoint.hpp"
#include "state/restore_plan.hpp"

namespace kactor::detail {

namespace {

// A restore writes the DB in batches of this many records or bytes.
constexpr std::size_t batch_records = 10000;
constexpr std::size_t batch_bytes = std::size_t{4} << 20;
// A long restore logs its progress this often, or redraws its progress line
// this often when the log is on a terminal (log_progress).
constexpr auto progress_every = std::chrono::seconds(5);
constexpr auto progress_redraw = std::chrono::milliseconds(200);

}  // namespace

task_stores::task_stores(std::shared_ptr<const store_layout> layout, partition_id partition,
                         std::shared_ptr<partition_counters> counters,
                         std::function<std::vector<std::int64_t>()> committed)
    : layout_(std::move(layout)),
      partition_(partition),
      counters_(std::move(counters)),
      committed_(std::move(committed)) {}

kv_store* task_stores::find(std::string_view name) {
  for (auto& s : stores_)
    if (s->name() == name) return s.get();
  return nullptr;
}

std::string task_stores::names() const {
  std::string out;
  for (const auto& s : layout_->stores) out += (out.empty() ? "" : ", ") + s;
  return out;
}

void task_stores::bind(changelog_emit emit) {
  for (auto& s : stores_)
    s->bind([emit, topic = store_layout::changelog_topic(layout_->group, s->name())](
                std::string_view key, std::string_view value) { emit(topic, key, value); });
}

void task_stores::when_ready(std::function<void()> wake) {
  {
    std::lock_guard lock(wake_mx_);
    if (!ready()) {
      wakes_.push_back(std::move(wake));
      return;
    }
  }
  wake();
}

void task_stores::seal(const lane_offsets& until) {
  if (!ready()) return;  // restoring: no write yet
  for (auto& s : stores_) s->seal();
  sealed_until_ = until;
}

void task_stores::commit_sealed() {
  if (!ready()) return;
  for (auto& s : stores_) s->commit_sealed();
  sealed_until_.next.clear();
}

void task_stores::roll_back(const lane_offsets& committed) {
  if (!ready()) return;
  // One transaction commits every lane's offsets: the sealed writes landed
  // if every lane that had handled a record is committed up to its seal.
  bool any = false, covered = true;
  for (std::size_t i = 0; i < sealed_until_.next.size(); ++i) {
    if (sealed_until_.next[i].value() < 0) continue;
    any = true;
    covered = covered && i < committed.next.size() && committed.next[i] >= sealed_until_.next[i];
  }
  for (auto& s : stores_) s->roll_back(any && covered);
  sealed_until_.next.clear();
}

bool task_stores::restore(changelog_reader& reader) {
  counters_->restored = 0;
  counters_->to_restore = 0;
  counters_->restore_us = 0;
  restore_started_ = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<task_store>> opened;
  std::vector<std::int64_t> restored_to;
  for (const auto& name : layout_->stores) {
    std::int64_t to = 0;
    auto s = restore_one(reader, name, to);
    if (!s) return false;  // cancelled (cancel() cleared `restoring`)
    opened.push_back(std::move(s));
    restored_to.push_back(to);
  }
  stores_ = std::move(opened);
  restored_to_ = std::move(restored_to);
  if (committed_) {
    try {
      resume_at_ = committed_();
    } catch (const std::exception& e) {
      log_about(log_level::debug, {layout_->agent, {}, partition_.value()},
                "{}; it resumes where it was", e.what());
    }
  }
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(wake_mx_);
    ready_.store(true, std::memory_order_release);
    wakes.swap(wakes_);
  }
  // A revocation meanwhile cleared it, and a new assignment may have set it.
  if (!cancelled()) counters_->restoring = false;
  for (auto& w : wakes) w();
  return true;
}

std::unique_ptr<task_store> task_stores::restore_one(changelog_reader& reader,
                                                     const std::string& name,
                                                     std::int64_t& restored_to) {
  const auto& l = *layout_;
  const auto dir = l.dir(name, partition_);
  const auto checkpoint_path = l.checkpoint(name, partition_);
  const auto topic = store_layout::changelog_topic(l.group, name);
  const auto store = "store " + name;
  const log_subject about{l.agent, {}, partition_.value()};

  restore_inputs in;
  const auto ck = read_checkpoint(checkpoint_path);
  in.checkpoint = ck.offset;
  in.checkpoint_problem = ck.problem;
  std::unique_ptr<rocks_store> db;
  try {
    db = rocks_store::open(dir, *l.memory, l.write_buffer_bytes);
  } catch (const rocks_store::open_error& e) {
    if (e.why() == rocks_store::open_failure::locked) throw;
    in.db_opened = false;
    in.db_problem = e.what();
  }
  std::tie(in.log_start, in.log_end) = reader.bounds(topic, partition_.value());
  const auto plan = plan_restore(in);
  if (plan.wipe) {
    db.reset();
    rocks_store::wipe(dir);
    remove_checkpoint(checkpoint_path);
    db = rocks_store::open(dir, *l.memory, l.write_buffer_bytes);
  }
  const auto total = static_cast<std::uint64_t>(in.log_end - plan.from);
  counters_->to_restore.fetch_add(total, std::memory_order_relaxed);
  log_about(plan.wipe && plan.from < in.log_end ? log_level::info : log_level::debug, about,
            "{}: {}; {} changelog record(s) to restore", store, plan.why, total);

  const auto started = std::chrono::steady_clock::now();
  auto last_log = started;
  std::atomic<std::uint64_t> done{0};
  rocksdb::WriteBatch batch;
  {
    // RocksDB writes a batch while the next one fills (measured with
    // restore_bench: see benchmarks/RESULTS.md).
    batch_writer writer(*db, [&](std::uint64_t records) {
      counters_->restored.fetch_add(records, std::memory_order_relaxed);
      counters_->restored_total.fetch_add(records, std::memory_order_relaxed);
      counters_->restore_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - restore_started_)
                                  .count();
      done.fetch_add(records, std::memory_order_relaxed);
    });
    const bool terminal = log_progress_shown();
    const auto submit = [&] {
      writer.submit(batch);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_log < (terminal ? progress_redraw : progress_every)) return;
      last_log = now;
      const auto n = done.load();
      const double rate = n / std::chrono::duration<double>(now - started).count();
      const auto line = fmt::format(
          "{}: restored {} of {} changelog record(s), {:.0f} records/s, about {:.0f} s left", store,
          n, total, rate, rate > 0 ? (total > n ? total - n : 0) / rate : 0.0);
      if (terminal)
        log_progress(about, line);
      else
        log_about(log_level::info, about, line);
    };
    const bool complete = reader.read(
        topic, partition_.value(), plan.from, in.log_end,
        [&](std::string_view key, std::string_view value) {
          const rocksdb::Slice k(key.data(), key.size());
          if (value.data() == nullptr)
            batch.Delete(k);
          else
            batch.Put(k, rocksdb::Slice(value.data(), value.size()));
          if (static_cast<std::size_t>(batch.Count()) >= batch_records ||
              batch.GetDataSize() >= batch_bytes)
            submit();
        },
        [this] { return cancelled(); });
    if (terminal) log_progress_done();
    if (!complete) return nullptr;
    if (batch.Count() > 0) writer.submit(batch);
    writer.finish();
  }
  restored_to = in.log_end;
  counters_->restore_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - restore_started_)
                              .count();
  if (total > 0)
    log_about(log_level::info, about, "{}: restored {} changelog record(s) in {} ms", store,
              done.load(),
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count());
  return std::make_unique<task_store>(name, std::move(db), l.transactional);
}

void task_stores::checkpoint(changelog_reader& reader) {
  checkpoint_queued_.store(false);
  if (!ready() || cancelled() || layout_->transactional) return;
  checkpointed_writes_.resize(stores_.size(), 0);
  for (std::size_t i = 0; i < stores_.size(); ++i) {
    auto& s = *stores_[i];
    const auto writes = s.writes();
    if (writes - checkpointed_writes_.at(i) < checkpoint_every) continue;
    const auto topic = store_layout::changelog_topic(layout_->group, s.name());
    const auto end = reader.bounds(topic, partition_.value()).second;
    // A write sends its changelog record before it reaches the DB: the
    // records before `end` are all in the DB once the writes begun by now
    // are finished. One in the producer's full queue may take a while: the
    // checkpoint waits for the next turn then.
    if (!s.await_writes(s.writes_begun(), std::chrono::seconds(1))) continue;
    s.db().flush();
    write_checkpoint(layout_->checkpoint(s.name(), partition_), end);
    // The writes the checkpoint covers: those whose records are before
    // `end`. A record reaches the log a while after its write (the
    // producer's queue), so counting `writes` here would let the checkpoint
    // fall behind the log by that backlog for good once writes stop.
    const auto covered =
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, end - restored_to_.at(i)));
    checkpointed_writes_[i] = std::min(writes, covered);
  }
}

void task_stores::close(changelog_reader& reader) {
  auto stores = std::move(stores_);
  if (!ready()) return;  // a cancelled restore: the old checkpoint still holds
  for (auto& s : stores) {
    s->db().flush();
    const auto topic = store_layout::changelog_topic(layout_->group, s->name());
    write_checkpoint(layout_->checkpoint(s->name(), partition_),
                     reader.bounds(topic, partition_.value()).second);
  }
}

}  // namespace kactor::detail
