// exactly_once: the open and sealed writes of a store partition.

#include "state/txn_buffer.hpp"

#include <stdexcept>

#include <rocksdb/comparator.h>

namespace kactor::detail {

namespace {

std::unique_ptr<rocksdb::WriteBatchWithIndex> make_batch() {
  // overwrite_key: one index entry per key, the latest, so a lookup reads
  // one entry and iterators never show a key twice.
  return std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0, true);
}

/// The batch's entry for `key`, if it has one.
std::optional<txn_buffer::lookup_result> find(rocksdb::WriteBatchWithIndex& batch,
                                              std::string_view key) {
  const rocksdb::Slice k(key.data(), key.size());
  std::unique_ptr<rocksdb::WBWIIterator> it(batch.NewIterator());
  it->Seek(k);
  if (!it->Valid() || it->Entry().key != k) return std::nullopt;
  const auto e = it->Entry();
  if (e.type == rocksdb::kDeleteRecord || e.type == rocksdb::kSingleDeleteRecord)
    return txn_buffer::lookup_result{true, {}};
  return txn_buffer::lookup_result{false, e.value.ToString()};
}

}  // namespace

txn_buffer::txn_buffer() : open_(make_batch()), sealed_(make_batch()) {}

void txn_buffer::put(std::string_view key, std::string_view value) {
  open_->Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
}

void txn_buffer::del(std::string_view key) {
  open_->Delete(rocksdb::Slice(key.data(), key.size()));
}

std::optional<txn_buffer::lookup_result> txn_buffer::lookup(std::string_view key) const {
  if (auto r = find(*open_, key)) return r;
  return find(*sealed_, key);
}

std::unique_ptr<rocksdb::Iterator> txn_buffer::iterator(std::unique_ptr<rocksdb::Iterator> base) {
  std::unique_ptr<rocksdb::Iterator> over_sealed(sealed_->NewIteratorWithBase(base.release()));
  return std::unique_ptr<rocksdb::Iterator>(open_->NewIteratorWithBase(over_sealed.release()));
}

void txn_buffer::seal() {
  if (!sealed_empty())
    throw std::logic_error(
        "txn_buffer::seal: the last sealed writes were neither applied nor dropped");
  std::swap(open_, sealed_);
}

}  // namespace kactor::detail
