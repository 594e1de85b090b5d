#pragma once
// Restore sequencing for one agent: a thread that opens and restores tasks'
// stores and checkpoints and closes them, in the order the group thread asks,
// so a slow restore never holds the group thread or the other partitions.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "src/group/task_stores.hpp"
#include "src/kafka/changelog_reader.hpp"

namespace kactor::detail {

/// Restores, checkpoints and closes one agent's tasks on its own thread, one
/// job at a time in the order given: a task revoked and assigned again is
/// closed (and checkpointed) before it is opened again. Called from the
/// group thread.
class restorer {
 public:
  /// `props`: client properties for the changelog reader. Throws
  /// `config_error` / `kafka_exception` if the reader cannot be created.
  restorer(std::string agent, property_list props);
  /// As `stop`.
  ~restorer();
  restorer(const restorer&) = delete;
  restorer& operator=(const restorer&) = delete;

  /// Restores `task` (its actor takes records once it is ready). A failed
  /// restore is logged and tried again after a second, until it succeeds or
  /// the task is closed.
  void restore(std::shared_ptr<task_stores> task);

  /// Checkpoints the task's stores that are due (`task_stores::checkpoint`),
  /// unless a checkpoint of it is already queued.
  void checkpoint(std::shared_ptr<task_stores> task);

  /// The task is revoked and its actor stopped: a restore of it stops, then
  /// its stores are checkpointed and closed.
  void close(std::shared_ptr<task_stores> task);

  /// Finishes every close asked for (restores not begun are dropped) and
  /// ends the thread. Idempotent.
  void stop();

 private:
  enum class job_kind { restore, checkpoint, close };
  struct job {
    std::shared_ptr<task_stores> task;
    job_kind kind = job_kind::restore;
  };
  void run();
  void run_job(job& j);

  std::string agent_;
  changelog_reader reader_;
  std::mutex mx_;
  std::condition_variable cv_;
  std::deque<job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kactor::detail
