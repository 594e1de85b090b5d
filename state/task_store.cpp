// A store partition for handlers: each write goes to the changelog, then to the local DB.
#include "state/task_store.hpp"

#include <stdexcept>

namespace kactor::detail {

task_store::task_store(std::string name, std::unique_ptr<rocks_store> db)
    : name_(std::move(name)), db_(std::move(db)) {}

std::optional<std::string> task_store::get(std::string_view key) {
  return db_->get(key);
}

void task_store::put(std::string_view key, std::string_view value) {
  if (!writer_) throw std::logic_error("store " + name_ + ": no changelog writer bound");
  // A null data pointer means a tombstone to the writer: an empty value the
  // caller built as std::string_view{} must stay a value.
  if (value.data() == nullptr) value = std::string_view("", 0);
  writer_(key, value);
  db_->put(key, value);
}

void task_store::del(std::string_view key) {
  if (!writer_) throw std::logic_error("store " + name_ + ": no changelog writer bound");
  writer_(key, std::string_view{});
  db_->del(key);
}

void task_store::range(std::string_view from, std::string_view to,
                       const std::function<bool(std::string_view, std::string_view)>& fn) {
  db_->range(from, to, fn);
}

}  // namespace kactor::detail
