// A store partition for handlers: each write goes to the changelog, then to the local DB.
#include "state/task_store.hpp"

#include <stdexcept>

namespace kactor::detail {

task_store::task_store(std::string name, std::unique_ptr<rocks_store> db, bool transactional)
    : name_(std::move(name)),
      db_(std::move(db)),
      txn_(transactional ? std::make_unique<txn_buffer>() : nullptr) {}

std::optional<std::string> task_store::get(std::string_view key) {
  if (txn_)
    if (auto r = txn_->lookup(key)) {
      if (r->deleted) return std::nullopt;
      return std::move(r->value);
    }
  return db_->get(key);
}

void task_store::put(std::string_view key, std::string_view value) {
  if (!writer_) throw std::logic_error("store " + name_ + ": no changelog writer bound");
  // A null data pointer means a tombstone to the writer: an empty value the
  // caller built as std::string_view{} must stay a value.
  if (value.data() == nullptr) value = std::string_view("", 0);
  writer_(key, value);
  if (txn_)
    txn_->put(key, value);
  else
    db_->put(key, value);
}

void task_store::del(std::string_view key) {
  if (!writer_) throw std::logic_error("store " + name_ + ": no changelog writer bound");
  writer_(key, std::string_view{});
  if (txn_)
    txn_->del(key);
  else
    db_->del(key);
}

void task_store::range(std::string_view from, std::string_view to,
                       const std::function<bool(std::string_view, std::string_view)>& fn) {
  if (!txn_) return db_->range(from, to, fn);
  auto it = txn_->iterator(db_->iterator());
  db_->range(*it, from, to, fn);
}

void task_store::seal() {
  if (txn_) txn_->seal();
}

void task_store::commit_sealed() {
  if (!txn_ || txn_->sealed_empty()) return;
  db_->write(*txn_->sealed_batch());
  txn_->drop_sealed();
}

void task_store::roll_back(bool sealed_committed) {
  if (!txn_) return;
  if (sealed_committed) commit_sealed();
  txn_->drop_sealed();
  txn_->drop_open();
}

}  // namespace kactor::detail
