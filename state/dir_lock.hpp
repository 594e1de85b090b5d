#pragma once
// One live process per state directory.

#include <string>

namespace kactor::detail {

/// Holds an exclusive lock (flock) on `<dir>/.lock` while it lives, so two
/// processes never open the same stores: the second one is refused at start
/// instead of finding every store's RocksDB LOCK taken at its first
/// assignment. The kernel drops the lock when the process dies (SIGKILL
/// included), so a crash never leaves the directory locked.
class dir_lock {
 public:
  /// Creates `dir` if missing and locks it. Throws `store_error` naming the
  /// directory (and the pid recorded by the holder) when another process holds it.
  explicit dir_lock(const std::string& dir);
  ~dir_lock();
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace kactor::detail
