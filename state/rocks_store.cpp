// One RocksDB instance without a write-ahead log, its open-failure classes, its
// read-only (secondary) open and its wipe.
#include "state/rocks_store.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

namespace kactor::detail {

namespace {

rocksdb::Slice slice(std::string_view s) {
  return {s.data(), s.size()};
}
std::string_view view(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

rocksdb::Options make_options(const store_memory& memory,
                              std::size_t write_buffer_bytes = std::size_t{8} << 20) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = memory.cache();
  table.cache_index_and_filter_blocks = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_manager = memory.write_buffers();
  options.write_buffer_size = write_buffer_bytes;
  options.max_write_buffer_number = 2;
  // A memtable allocates its arena in blocks of an eighth of its size.
  options.arena_block_size = std::max<std::size_t>(4096, write_buffer_bytes / 8);
  // A store has few files open: one table-cache shard, not 64 (~23 KB each instance).
  options.table_cache_numshardbits = 0;
  options.info_log = memory.logger();
  return options;
}

/// The DB's LOCK is held: RocksDB says "lock hold by current process" for a
/// handle of this process, and "While lock file: <dir>/LOCK: <errno text>"
/// when `fcntl` refuses (another process). Matched on these phrases, not on
/// "lock" alone, which the directory's name may contain.
bool is_lock_failure(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string text = s.ToString();
  return text.find("lock hold by current process") != std::string::npos ||
         text.find("While lock file") != std::string::npos;
}

}  // namespace

std::unique_ptr<rocks_store> rocks_store::open(const std::string& dir, const store_memory& memory,
                                               std::size_t write_buffer_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw open_error(dir, "cannot create the directory: " + ec.message(), open_failure::broken);
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(make_options(memory, write_buffer_bytes), dir, &raw);
  if (!s.ok()) {
    const auto why = is_lock_failure(s) ? open_failure::locked : open_failure::broken;
    throw open_error(dir, "cannot open: " + s.ToString(), why);
  }
  return std::unique_ptr<rocks_store>(new rocks_store(dir, std::unique_ptr<rocksdb::DB>(raw)));
}

std::unique_ptr<rocks_store> rocks_store::open_read_only(const std::string& dir,
                                                         const store_memory& memory) {
  std::error_code ec;
  std::string secondary = (std::filesystem::temp_directory_path(ec) / "kactor-secondary-XXXXXX");
  if (ec) throw store_error(dir, "cannot find a temporary directory: " + ec.message());
  if (::mkdtemp(secondary.data()) == nullptr)
    throw store_error(dir, "cannot create " + secondary + ": " + std::strerror(errno));
  rocksdb::Options options = make_options(memory);
  options.create_if_missing = false;
  options.max_open_files = -1;  // what a secondary instance needs: every SST file held open
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenAsSecondary(options, dir, secondary, &raw);
  if (!s.ok()) {
    std::filesystem::remove_all(secondary, ec);
    throw store_error(dir, "cannot open for reading: " + s.ToString());
  }
  return std::unique_ptr<rocks_store>(
      new rocks_store(dir, std::unique_ptr<rocksdb::DB>(raw), std::move(secondary)));
}

void rocks_store::wipe(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    if (ec) throw store_error(dir, "cannot wipe: " + ec.message());
    return;
  }
  const rocksdb::Status s = rocksdb::DestroyDB(dir, rocksdb::Options());
  if (!s.ok()) throw store_error(dir, "cannot wipe: " + s.ToString());
  std::filesystem::remove_all(dir, ec);
  if (ec) throw store_error(dir, "cannot wipe: " + ec.message());
}

rocks_store::rocks_store(std::string dir, std::unique_ptr<rocksdb::DB> db,
                         std::string secondary_dir)
    : dir_(std::move(dir)), db_(std::move(db)), secondary_dir_(std::move(secondary_dir)) {
  write_options_.disableWAL = true;
}

rocks_store::~rocks_store() {
  // A failed close leaves nothing to do: without the WAL, unflushed writes
  // are lost either way and the changelog restores them.
  db_->Close().PermitUncheckedError();
  db_.reset();
  if (secondary_dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(secondary_dir_, ec);
}

std::optional<std::string> rocks_store::get(std::string_view key) const {
  std::string value;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), slice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) fail("get", s);
  return value;
}

void rocks_store::put(std::string_view key, std::string_view value) {
  const rocksdb::Status s = db_->Put(write_options_, slice(key), slice(value));
  if (!s.ok()) fail("put", s);
}

void rocks_store::del(std::string_view key) {
  const rocksdb::Status s = db_->Delete(write_options_, slice(key));
  if (!s.ok()) fail("delete", s);
}

void rocks_store::range(std::string_view from, std::string_view to,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const rocksdb::Slice upper = slice(to);
  rocksdb::ReadOptions options;
  if (!to.empty()) options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  range(*it, from, {}, fn);
}

void rocks_store::range(rocksdb::Iterator& it, std::string_view from, std::string_view to,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const rocksdb::Slice end = slice(to);
  for (it.Seek(slice(from)); it.Valid(); it.Next()) {
    if (!to.empty() && it.key().compare(end) >= 0) break;
    if (!fn(view(it.key()), view(it.value()))) break;
  }
  if (!it.status().ok()) fail("range", it.status());
}

std::unique_ptr<rocksdb::Iterator> rocks_store::iterator() const {
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions()));
}

void rocks_store::write(rocksdb::WriteBatch& batch) {
  const rocksdb::Status s = db_->Write(write_options_, &batch);
  if (!s.ok()) fail("write", s);
}

void rocks_store::flush() {
  rocksdb::FlushOptions options;
  options.wait = true;
  const rocksdb::Status s = db_->Flush(options);
  if (!s.ok()) fail("flush", s);
}

void rocks_store::fail(const char* what, const rocksdb::Status& s) const {
  throw store_error(dir_, std::string(what) + ": " + s.ToString());
}

}  // namespace kactor::detail
