// The thread that restores and closes one agent's task stores.

#include "src/group/restorer.hpp"

#include <chrono>

#include <kactor/log.hpp>

namespace kactor::detail {

restorer::restorer(std::string agent, property_list props)
    : agent_(std::move(agent)), reader_(std::move(props)), thread_([this] { run(); }) {}

restorer::~restorer() {
  stop();
}

void restorer::restore(std::shared_ptr<task_stores> task) {
  std::lock_guard lock(mx_);
  jobs_.push_back({std::move(task), job_kind::restore});
  cv_.notify_one();
}

void restorer::checkpoint(std::shared_ptr<task_stores> task) {
  if (!task->queue_checkpoint()) return;
  std::lock_guard lock(mx_);
  jobs_.push_back({std::move(task), job_kind::checkpoint});
  cv_.notify_one();
}

void restorer::close(std::shared_ptr<task_stores> task) {
  task->cancel();
  std::lock_guard lock(mx_);
  jobs_.push_back({std::move(task), job_kind::close});
  cv_.notify_one();
}

void restorer::stop() {
  {
    std::lock_guard lock(mx_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    for (auto& j : jobs_) j.task->cancel();
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void restorer::run() {
  for (;;) {
    job j;
    {
      std::unique_lock lock(mx_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      j = std::move(jobs_.front());
      jobs_.pop_front();
      if (stopping_ && j.kind != job_kind::close) continue;
    }
    run_job(j);
  }
}

void restorer::run_job(job& j) {
  const auto p = j.task->partition().value();
  try {
    switch (j.kind) {
      case job_kind::close:
        j.task->close(reader_);
        return;
      case job_kind::checkpoint:
        j.task->checkpoint(reader_);
        return;
      case job_kind::restore:
        if (!j.task->cancelled()) j.task->restore(reader_);
        return;
    }
  } catch (const std::exception& e) {
    static constexpr const char* what[] = {"restoring", "checkpointing", "closing"};
    log_about(log_level::error, {agent_, {}, static_cast<std::int32_t>(p)},
              "{} the stores failed: {}", what[static_cast<int>(j.kind)], e.what());
    // A checkpoint is tried again at its next turn, a close not at all.
    if (j.kind != job_kind::restore) return;
    // Try again after a second unless the task goes meanwhile.
    std::unique_lock lock(mx_);
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    if (!stopping_ && !j.task->cancelled()) jobs_.push_back(std::move(j));
  }
}

}  // namespace kactor::detail
