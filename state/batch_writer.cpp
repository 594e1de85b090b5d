#include "state/batch_writer.hpp"

#include <utility>

namespace kactor::detail {

batch_writer::batch_writer(rocks_store& db, std::function<void(std::uint64_t)> written,
                           std::size_t depth)
    : db_(db), written_(std::move(written)), depth_(depth), thread_([this] { run(); }) {}

batch_writer::~batch_writer() {
  {
    std::lock_guard lock(mx_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

void batch_writer::rethrow_locked() {
  if (failed_) std::rethrow_exception(failed_);
}

void batch_writer::submit(rocksdb::WriteBatch& batch) {
  std::unique_lock lock(mx_);
  cv_.wait(lock, [this] { return queue_.size() < depth_ || failed_; });
  rethrow_locked();
  queue_.emplace_back(std::move(batch));
  batch.Clear();
  cv_.notify_all();
}

void batch_writer::finish() {
  std::unique_lock lock(mx_);
  cv_.wait(lock, [this] { return (queue_.empty() && !writing_) || failed_; });
  rethrow_locked();
}

void batch_writer::run() {
  std::unique_lock lock(mx_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto batch = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    std::exception_ptr failed;
    try {
      db_.write(batch);
      written_(static_cast<std::uint64_t>(batch.Count()));
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    writing_ = false;
    if (failed && !failed_) failed_ = failed;
    cv_.notify_all();
  }
}

}  // namespace kactor::detail
