// The block cache and write-buffer manager every RocksDB instance of a process shares.
#include "state/store_memory.hpp"

#include <algorithm>

namespace kactor::detail {

namespace {
constexpr std::size_t min_bytes = std::size_t{8} << 20;
}  // namespace

store_memory::store_memory(std::size_t bytes)
    : bytes_(std::max(bytes, min_bytes)),
      cache_(rocksdb::NewLRUCache(bytes_)),
      write_buffers_(std::make_shared<rocksdb::WriteBufferManager>(bytes_ / 2, cache_)) {}

}  // namespace kactor::detail
