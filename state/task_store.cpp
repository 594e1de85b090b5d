// A store partition for handlers: each write goes to the changelog, then to the local DB.
#include "state/task_store.hpp"

#include <stdexcept>
#include <thread>

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

class task_store::write_scope {
 public:
  explicit write_scope(task_store& s) : s_(s) { s_.begun_.fetch_add(1, std::memory_order_seq_cst); }
  ~write_scope() { s_.finished_.fetch_add(1, std::memory_order_release); }
  write_scope(const write_scope&) = delete;
  write_scope& operator=(const write_scope&) = delete;

 private:
  task_store& s_;
};

bool task_store::await_writes(std::uint64_t begun, std::chrono::milliseconds timeout) const {
  // A write takes microseconds, unless its changelog record waits for room
  // in the producer's queue: yield a while, then poll every millisecond.
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (int spins = 0; writes() < begun; ++spins) {
    if (std::chrono::steady_clock::now() >= until) return false;
    if (spins < 1000)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void task_store::put(std::string_view key, std::string_view value) {
  if (!writer_) throw std::logic_error("store " + name_ + ": no changelog writer bound");
  const write_scope counted(*this);
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
  const write_scope counted(*this);
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
