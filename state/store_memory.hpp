#pragma once
// The memory every state store of a process shares.

#include <cstddef>
#include <memory>

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/write_buffer_manager.h>

namespace kactor::detail {

/// One block cache and one write-buffer manager for all of a process's
/// RocksDB instances, so memory does not grow with the task count: memtables
/// are charged to the cache (at most half of `bytes`) and flushed when they
/// reach their share. Created once per runtime; every `rocks_store` opened
/// with it keeps it alive (the options hold shared pointers).
class store_memory {
 public:
  /// `bytes` in total for block cache and memtables (at least 8 MiB).
  explicit store_memory(std::size_t bytes);

  const std::shared_ptr<rocksdb::Cache>& cache() const { return cache_; }
  const std::shared_ptr<rocksdb::WriteBufferManager>& write_buffers() const {
    return write_buffers_;
  }
  /// RocksDB's info log for every instance: its errors go to kactor's log,
  /// its warnings at debug, the rest nowhere (no LOG file per store, ~30 KB
  /// less each).
  const std::shared_ptr<rocksdb::Logger>& logger() const { return logger_; }
  std::size_t bytes() const { return bytes_; }

  /// The memtable size for each of `instances` stores sharing this memory:
  /// half of it divided over them, from 64 KiB to 8 MiB. The write-buffer
  /// manager's limit is soft (its flushes run behind the writes), so with
  /// hundreds of instances each must also flush on its own at its share:
  /// 256 instances with 8 MiB memtables grew 180 MB beyond a 32 MB budget
  /// (store_memory_kafka_test).
  std::size_t write_buffer_for(std::size_t instances) const;

 private:
  std::size_t bytes_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers_;
  std::shared_ptr<rocksdb::Logger> logger_;
};

}  // namespace kactor::detail
