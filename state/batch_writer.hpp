#pragma once
// Writes WriteBatches to a store on a thread of its own, so whoever fills
// them (a restore reading a changelog) goes on while RocksDB writes.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include <rocksdb/write_batch.h>

#include "state/rocks_store.hpp"

namespace kactor::detail {

/// Owns a writer thread for one `rocks_store`, which must outlive it. At most
/// `depth` batches wait; `submit` blocks while they do. `written(records)`
/// runs on the writer thread after each batch. Used by one thread (the
/// submitter).
class batch_writer {
 public:
  batch_writer(rocks_store& db, std::function<void(std::uint64_t records)> written,
               std::size_t depth = 2);
  /// Drops what waits and joins.
  ~batch_writer();
  batch_writer(const batch_writer&) = delete;
  batch_writer& operator=(const batch_writer&) = delete;

  /// Queues `batch` (left empty). Throws the `store_error` of an earlier
  /// failed write.
  void submit(rocksdb::WriteBatch& batch);
  /// Waits until every submitted batch is written; throws the first failed
  /// write's `store_error`.
  void finish();

 private:
  void run();
  void rethrow_locked();

  rocks_store& db_;
  std::function<void(std::uint64_t)> written_;
  std::size_t depth_;
  std::mutex mx_;
  std::condition_variable cv_;
  std::deque<rocksdb::WriteBatch> queue_;
  bool writing_ = false;
  bool stopping_ = false;
  std::exception_ptr failed_;
  std::thread thread_;
};

}  // namespace kactor::detail
