#pragma once
// The memory every state store of a process shares.

#include <cstddef>
#include <memory>

#include <rocksdb/cache.h>
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
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t bytes_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers_;
};

}  // namespace kactor::detail
