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
  jobs_.push_back({std::move(task), false});
  cv_.notify_one();
}

void restorer::close(std::shared_ptr<task_stores> task) {
  task->cancel();
  std::lock_guard lock(mx_);
  jobs_.push_back({std::move(task), true});
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
      if (stopping_ && !j.close) continue;
    }
    run_job(j);
  }
}

void restorer::run_job(job& j) {
  const auto p = j.task->partition().value();
  try {
    if (j.close) {
      j.task->close(reader_);
      return;
    }
    if (!j.task->cancelled()) j.task->restore(reader_);
  } catch (const std::exception& e) {
    log(log_level::error, "agent {}: {} of the stores of partition {} failed: {}", agent_,
        j.close ? "closing" : "restoring", p, e.what());
    if (j.close) return;
    // Try again after a second unless the task goes meanwhile.
    std::unique_lock lock(mx_);
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    if (!stopping_ && !j.task->cancelled()) jobs_.push_back(std::move(j));
  }
}

}  // namespace kactor::detail
