// The block cache and write-buffer manager every RocksDB instance of a process shares.
#include "state/store_memory.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

#include <kactor/log.hpp>

namespace kactor::detail {

namespace {
constexpr std::size_t min_bytes = std::size_t{8} << 20;

/// RocksDB's warnings and errors into kactor's log: errors as errors,
/// warnings at debug (they are its flow control: "Stopping writes because we
/// have 2 immutable memtables" whenever a restore outruns a flush).
class log_forwarder final : public rocksdb::Logger {
 public:
  log_forwarder() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::WARN_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    std::vsnprintf(line, sizeof(line), format, ap);
    log(level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? log_level::error : log_level::debug,
        "rocksdb: {}", line);
  }
};
}  // namespace

store_memory::store_memory(std::size_t bytes)
    : bytes_(std::max(bytes, min_bytes)),
      cache_(rocksdb::NewLRUCache(bytes_)),
      write_buffers_(std::make_shared<rocksdb::WriteBufferManager>(bytes_ / 2, cache_)),
      logger_(std::make_shared<log_forwarder>()) {}

std::size_t store_memory::write_buffer_for(std::size_t instances) const {
  constexpr std::size_t lo = std::size_t{64} << 10, hi = std::size_t{8} << 20;
  return std::clamp(bytes_ / 2 / std::max<std::size_t>(instances, 1), lo, hi);
}

}  // namespace kactor::detail
