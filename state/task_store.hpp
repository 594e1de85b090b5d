#pragma once
// A store partition as a handler sees it: the local DB, with every write also
// sent to the changelog.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <kactor/store.hpp>

#include "state/rocks_store.hpp"
#include "state/txn_buffer.hpp"

namespace kactor::detail {

/// `kactor::kv_store` over one `rocks_store`. Each write goes first to the
/// changelog writer (which may throw: then the store is untouched) and then
/// to the DB, or, transactional (exactly_once), to a `txn_buffer` that
/// reaches the DB only once its transaction committed. Owned by the task's
/// stores, used by its partition actor only.
class task_store final : public kv_store {
 public:
  /// Sends one changelog record; a value with a null data pointer is a
  /// tombstone (a delete).
  using changelog_writer = std::function<void(std::string_view key, std::string_view value)>;

  task_store(std::string name, std::unique_ptr<rocks_store> db, bool transactional = false);

  /// Where writes' changelog records go; set by the partition actor that uses
  /// the store (a write before it throws `std::logic_error`).
  void bind(changelog_writer writer) { writer_ = std::move(writer); }

  std::optional<std::string> get(std::string_view key) override;
  void put(std::string_view key, std::string_view value) override;
  void del(std::string_view key) override;
  void range(std::string_view from, std::string_view to,
             const std::function<bool(std::string_view, std::string_view)>& fn) override;
  const std::string& name() const override { return name_; }

  rocks_store& db() { return *db_; }
  /// Puts and deletes begun, and finished (any thread may read them). A
  /// write sends its changelog record first and then reaches the DB (or the
  /// transaction's buffer); a failed one counts as finished.
  std::uint64_t writes_begun() const { return begun_.load(std::memory_order_seq_cst); }
  std::uint64_t writes() const { return finished_.load(std::memory_order_acquire); }
  /// Waits, up to `timeout`, until `begun` writes are finished (another
  /// thread than the writer's); false on timeout.
  bool await_writes(std::uint64_t begun, std::chrono::milliseconds timeout) const;

  /// Transactional only (no-ops otherwise). The handled records' offsets go
  /// into a commit: writes from now on belong to the next transaction.
  void seal();
  /// The sealed writes' transaction committed: they go to the DB.
  void commit_sealed();
  /// The partition reads again from its committed offset: the open writes
  /// are dropped, and the sealed ones too unless `sealed_committed` (their
  /// transaction committed after all: applied).
  void roll_back(bool sealed_committed);

 private:
  std::string name_;
  std::unique_ptr<rocks_store> db_;
  changelog_writer writer_;
  std::unique_ptr<txn_buffer> txn_;  // transactional only
  std::atomic<std::uint64_t> begun_{0};
  std::atomic<std::uint64_t> finished_{0};
  /// Counts a write as begun now and as finished when it goes.
  class write_scope;
};

}  // namespace kactor::detail
