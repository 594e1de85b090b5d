#pragma once
// Child processes for the CLI's tools (the rebalance bench's members) and
// for tests that run kactor programs.

#include <chrono>
#include <string>
#include <vector>

namespace kactor::detail {

/// The CPU time (user + system) process `pid` used so far, in seconds, from
/// /proc/<pid>/stat; NaN if it cannot be read.
double process_cpu_seconds(int pid);

/// The major page faults process `pid` took so far (faults that had to read a
/// page in, or zero-fill one with its readahead), from /proc/<pid>/stat; -1
/// if it cannot be read.
long long process_major_faults(int pid);

/// A child process (fork + exec), killed with SIGKILL if still running when
/// destroyed. Its stdout and stderr go to `log_path`. Not thread-safe: one
/// thread owns it and reaps it.
class child_process {
 public:
  /// `env` entries ("NAME=value") are added to the child's environment.
  /// Throws `std::runtime_error` if fork fails; an exec failure shows as
  /// exit status 127.
  child_process(const std::vector<std::string>& argv, const std::string& log_path,
                const std::vector<std::string>& env = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  int pid() const { return pid_; }
  void signal(int sig);
  /// Whether the process is stopped (SIGSTOP, state T in /proc).
  bool stopped() const;
  /// The CPU time (user + system) the process used so far, in seconds;
  /// NaN once it has been reaped.
  double cpu_seconds() const;
  /// Waits for exit; returns the exit code, 128 + signal if killed, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  bool running();
  /// The exit status once reaped (see `wait`), else -1.
  int status() const { return status_; }

 private:
  int pid_ = -1;
  int status_ = -1;
};

}  // namespace kactor::detail
