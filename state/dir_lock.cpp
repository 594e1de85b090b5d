// The lock that keeps a state directory to one live process.

#include "state/dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <kactor/error.hpp>

namespace kactor::detail {

dir_lock::dir_lock(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw store_error(dir, "cannot create the directory: " + ec.message());
  const auto path = dir + "/.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw store_error(dir, "cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char holder[32] = {};
    const auto n = ::pread(fd_, holder, sizeof(holder) - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw store_error(dir, std::string("in use by another live process") +
                                 (n > 0 ? " (pid " + std::string(holder, n) + ")" : "") +
                                 "; give each process its own state_dir");
    throw store_error(dir, std::string("cannot lock ") + path + ": " + std::strerror(err));
  }
  const auto pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const auto written = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

dir_lock::~dir_lock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace kactor::detail
