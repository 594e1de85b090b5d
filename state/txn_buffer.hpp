#pragma once
// exactly_once: a store partition's writes that no committed transaction
// holds yet, kept out of the local DB until their transaction commits.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rocksdb/iterator.h>
#include <rocksdb/utilities/write_batch_with_index.h>

namespace kactor::detail {

/// Two indexed write batches (RocksDB's WriteBatchWithIndex) over a store's
/// DB: `open` takes the handler's writes; `seal` moves them to `sealed` when
/// the partition's offsets go into a commit, and later writes belong to the
/// next transaction. After the commit, `sealed_batch` is written to the DB;
/// after an abort both are dropped, so the DB only ever holds committed
/// state (docs/state.md). Reads see open over sealed over the DB. Used by
/// the partition actor's thread only.
class txn_buffer {
 public:
  txn_buffer();

  void put(std::string_view key, std::string_view value);
  void del(std::string_view key);

  /// What the buffers say about `key`: a value, deleted, or nothing
  /// (std::nullopt: read the DB).
  struct lookup_result {
    bool deleted = false;
    std::string value;
  };
  std::optional<lookup_result> lookup(std::string_view key) const;

  /// An iterator over open, then sealed, then `base` (the DB's iterator,
  /// owned by the result from now on).
  std::unique_ptr<rocksdb::Iterator> iterator(std::unique_ptr<rocksdb::Iterator> base);

  /// The open writes become the sealed ones (which must be empty: applied
  /// or dropped since the last `seal`).
  void seal();
  /// The sealed writes, to write to the DB once their transaction committed.
  rocksdb::WriteBatch* sealed_batch() { return sealed_->GetWriteBatch(); }
  bool sealed_empty() const { return sealed_->GetWriteBatch()->Count() == 0; }
  bool open_empty() const { return open_->GetWriteBatch()->Count() == 0; }
  void drop_sealed() { sealed_->Clear(); }
  void drop_open() { open_->Clear(); }

 private:
  std::unique_ptr<rocksdb::WriteBatchWithIndex> open_;
  std::unique_ptr<rocksdb::WriteBatchWithIndex> sealed_;
};

}  // namespace kactor::detail
