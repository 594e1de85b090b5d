#pragma once
// One task's state stores: opened and restored from their changelogs on the
// restorer's thread, used by the task's partition actor, checkpointed while
// it runs (at_least_once) and when it is revoked, then closed.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <kactor/types.hpp>

#include "actors/partition_counters.hpp"
#include "actors/task_state.hpp"
#include "src/kafka/changelog_reader.hpp"
#include "state/dir_lock.hpp"
#include "state/store_memory.hpp"
#include "state/task_store.hpp"

namespace kactor::detail {

/// Where one agent's stores live and what they share.
struct store_layout {
  std::string agent;
  /// `<state_dir>/<group>`.
  std::string root;
  std::string group;
  std::vector<std::string> stores;
  /// exactly_once: writes wait in a `txn_buffer` until their commit.
  bool transactional = false;
  /// Each store's memtable size (`store_memory::write_buffer_for` over the
  /// agent's stores times its input's partitions).
  std::size_t write_buffer_bytes = std::size_t{8} << 20;
  std::shared_ptr<const store_memory> memory;
  /// Keeps other processes out of `root` while the layout lives.
  std::shared_ptr<dir_lock> lock;

  /// `<group>-<store>-changelog`.
  static std::string changelog_topic(const std::string& group, const std::string& store) {
    return group + "-" + store + "-changelog";
  }
  /// `<root>/<store>/<partition>`: the RocksDB directory.
  std::string dir(const std::string& store, partition_id p) const {
    return root + "/" + store + "/" + std::to_string(p.value());
  }
  /// The checkpoint beside it: `<root>/<store>/<partition>.checkpoint`.
  std::string checkpoint(const std::string& store, partition_id p) const {
    return dir(store, p) + ".checkpoint";
  }
};

/// The stores of the task `partition` of one agent. `restore`, `checkpoint`
/// and `close` run on the restorer's thread; `cancel` on any; the `task_state` side on
/// the partition actor, after `ready()`.
class task_stores final : public task_state {
 public:
  /// `committed`: asks the task's inputs' committed offsets, by lane (-1:
  /// none), on the restorer's thread once the stores are restored; may be
  /// empty.
  task_stores(std::shared_ptr<const store_layout> layout, partition_id partition,
              std::shared_ptr<partition_counters> counters,
              std::function<std::vector<std::int64_t>()> committed = {});

  kv_store* find(std::string_view name) override;
  std::string names() const override;
  void bind(changelog_emit emit) override;
  bool ready() const override { return ready_.load(std::memory_order_acquire); }
  void when_ready(std::function<void()> wake) override;
  kactor::offset resume_at(std::uint32_t lane) const override {
    return lane < resume_at_.size() ? kactor::offset{resume_at_[lane]} : kactor::offset{-1};
  }
  void seal(const lane_offsets& until) override;
  void commit_sealed() override;
  void roll_back(const lane_offsets& committed) override;

  /// Opens every store and brings it to its changelog's end: from its
  /// checkpoint, or from the start after wiping it (`plan_restore` decides).
  /// Returns false if cancelled (nothing is ready then). Throws
  /// `kafka_exception` or `store_error`; the stores are closed then.
  bool restore(changelog_reader& reader);

  /// The task is revoked: a restore stops at its next fetch.
  void cancel() {
    cancelled_.store(true, std::memory_order_relaxed);
    counters_->restoring = false;
  }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  /// A store is checkpointed while its task runs once it had this many
  /// writes more than its last checkpoint covers (Kafka Streams' threshold):
  /// each checkpoint flushes a memtable, and small flushes cost compactions.
  static constexpr std::uint64_t checkpoint_every = 10000;

  /// at_least_once, on the restorer's thread while the task's actor writes:
  /// each store written `checkpoint_every` times more than its last
  /// checkpoint covers is flushed and checkpointed, so a crash restores only
  /// what came after.
  /// Its changelog's end is read first: every record before it was written
  /// to the DB before it was sent, so the flushed DB holds it (later writes
  /// may be in it too; the restore replays them). exactly_once checkpoints
  /// only on close. Throws `kafka_exception` or `store_error`.
  void checkpoint(changelog_reader& reader);
  /// Marks a checkpoint job queued; false if one already is (group thread).
  bool queue_checkpoint() { return !checkpoint_queued_.exchange(true); }

  /// After the task's actor stopped (its changelog records acknowledged):
  /// each restored store is flushed and checkpointed at its changelog's end,
  /// then every store is closed. Throws `kafka_exception` or `store_error`
  /// (the stores are closed all the same; the next restore reads more).
  void close(changelog_reader& reader);

  partition_id partition() const { return partition_; }
  const store_layout& layout() const { return *layout_; }

 private:
  /// Opens and restores the store `name`; `restored_to` gets the changelog
  /// offset its DB reflects then. Null if cancelled.
  std::unique_ptr<task_store> restore_one(changelog_reader& reader, const std::string& name,
                                          std::int64_t& restored_to);
  /// When the current (or last) restore of the task started.
  std::chrono::steady_clock::time_point restore_started_{};

  std::shared_ptr<const store_layout> layout_;
  partition_id partition_;
  std::shared_ptr<partition_counters> counters_;
  std::function<std::vector<std::int64_t>()> committed_;
  /// Written before `ready_` is set, read after.
  std::vector<std::int64_t> resume_at_;
  std::vector<std::unique_ptr<task_store>> stores_;
  /// Each store's changelog offset once restored, and the writes since
  /// then that its last checkpoint covers (restorer's thread).
  std::vector<std::int64_t> restored_to_;
  std::vector<std::uint64_t> checkpointed_writes_;
  std::atomic<bool> checkpoint_queued_{false};
  /// exactly_once: the offsets the sealed writes' records end at, by lane
  /// (empty: none sealed).
  lane_offsets sealed_until_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> cancelled_{false};
  std::mutex wake_mx_;
  std::vector<std::function<void()>> wakes_;
};

}  // namespace kactor::detail
