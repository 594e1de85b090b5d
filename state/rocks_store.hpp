#pragma once
// One RocksDB instance: the local copy of one store's partition.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <kactor/error.hpp>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "state/store_memory.hpp"

namespace kactor::detail {

/// Owns one open RocksDB instance (closed in the destructor). Writes skip the
/// write-ahead log: the changelog topic is the log, and a store whose last
/// close was not clean is restored from it (docs/state.md). Used by one
/// thread at a time (the partition actor, or the restorer before it).
///
/// Every failure throws `kactor::store_error` naming the directory.
class rocks_store {
 public:
  /// Why `open` failed.
  enum class open_failure {
    locked,  ///< another handle (in this or another process) holds the DB's LOCK
    broken,  ///< corrupt or unreadable: wipe it and restore from the changelog
  };

  /// Thrown by `open`: a `store_error` with the reason.
  class open_error : public store_error {
   public:
    open_error(std::string dir, const std::string& what, open_failure why)
        : store_error(std::move(dir), what), why_(why) {}
    open_failure why() const noexcept { return why_; }

   private:
    open_failure why_;
  };

  /// Opens the DB in `dir`, creating it (and missing parent directories) if
  /// absent. Throws `open_error`.
  /// `write_buffer_bytes`: the memtable size at which this DB flushes on its
  /// own (see `store_memory::write_buffer_for`).
  static std::unique_ptr<rocks_store> open(const std::string& dir, const store_memory& memory,
                                           std::size_t write_buffer_bytes = std::size_t{8} << 20);

  /// Opens the DB in `dir` for reading only, as a RocksDB secondary instance
  /// (`DB::OpenAsSecondary`): it takes no LOCK, so it works while another
  /// handle (in this or another process) has the DB open, and it creates and
  /// changes nothing in `dir`; its own info log goes to a fresh directory
  /// under the system temp dir, removed with the handle. It shows the DB as
  /// its files held it at the open. Writers skip the WAL, so what is still in
  /// a writer's memtables is not visible: only what is flushed to SST files,
  /// which includes everything up to the last checkpoint or clean close.
  /// `put`, `del`, `write` and `flush` on it throw `store_error`. Throws
  /// `store_error` with RocksDB's reason when the DB cannot be opened
  /// (`dir` missing included).
  static std::unique_ptr<rocks_store> open_read_only(const std::string& dir,
                                                     const store_memory& memory);

  /// Removes the DB in `dir` and everything in the directory (absent: no-op).
  static void wipe(const std::string& dir);

  ~rocks_store();
  rocks_store(const rocks_store&) = delete;
  rocks_store& operator=(const rocks_store&) = delete;

  const std::string& dir() const { return dir_; }

  std::optional<std::string> get(std::string_view key) const;
  void put(std::string_view key, std::string_view value);
  void del(std::string_view key);
  /// Keys in [from, to) in byte order (empty `to`: to the end) until `fn` returns false.
  void range(std::string_view from, std::string_view to,
             const std::function<bool(std::string_view, std::string_view)>& fn) const;
  /// As `range`, over `it`: an iterator of this DB, or one that merges
  /// writes over it (`txn_buffer::iterator`).
  void range(rocksdb::Iterator& it, std::string_view from, std::string_view to,
             const std::function<bool(std::string_view, std::string_view)>& fn) const;
  /// A new iterator over the DB.
  std::unique_ptr<rocksdb::Iterator> iterator() const;
  /// Applies `batch` atomically (restore writes in large batches).
  void write(rocksdb::WriteBatch& batch);
  /// Writes the memtables to disk: with the WAL off, the only way writes
  /// survive a close, so a checkpoint is written only after it.
  void flush();

 private:
  rocks_store(std::string dir, std::unique_ptr<rocksdb::DB> db, std::string secondary_dir = {});
  [[noreturn]] void fail(const char* what, const rocksdb::Status& s) const;

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;
  /// `open_read_only`: the secondary instance's own directory, removed on close.
  std::string secondary_dir_;
};

}  // namespace kactor::detail
