// The checkpoint file: a versioned, checksummed text file replaced atomically.
#include "state/checkpoint.hpp"

#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include <kactor/error.hpp>

namespace kactor::detail {

namespace {

// The file is three lines: the header, the offset in decimal, and the FNV-1a
// 64 hash of the first two lines (newlines included) in 16 hex digits.
constexpr std::string_view header = "kactor-checkpoint 1";
constexpr std::size_t max_file_size = 4096;

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

[[noreturn]] void fail_with(const std::string& path, const char* what, const std::string& file,
                            int err) {
  std::string text = what;
  if (!file.empty()) text += " " + file;
  throw store_error(path, text + ": " + std::strerror(err));
}

/// As `fail_with`, for the syscall that just failed: reads errno before
/// anything (an allocation) can change it.
[[noreturn]] void fail(const std::string& path, const char* what, const std::string& file = {}) {
  fail_with(path, what, file, errno);
}

void write_all(int fd, std::string_view bytes, const std::string& path, const std::string& tmp) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot write", tmp);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// Makes the directory holding `path` durable (a rename or unlink in it).
void sync_directory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open the directory", dir);
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail_with(path, "cannot fsync the directory", dir, err);
  }
  ::close(fd);
}

/// The offset in `text`, or why there is none.
checkpoint_read parse(std::string_view text) {
  const std::size_t first = text.find('\n');
  const std::size_t second = first == std::string_view::npos ? first : text.find('\n', first + 1);
  if (second == std::string_view::npos || text.find('\n', second + 1) != text.size() - 1)
    return {std::nullopt, "torn or corrupt (not three whole lines)"};
  const std::string_view body = text.substr(0, second + 1);
  const std::string_view sum = text.substr(second + 1, text.size() - second - 2);
  if (sum != hex(fnv1a64(body))) return {std::nullopt, "torn or corrupt (checksum mismatch)"};
  if (text.substr(0, first) != header)
    return {std::nullopt, "unknown format '" + std::string(text.substr(0, first)) +
                              "' (expected '" + std::string(header) + "')"};
  const std::string_view digits = text.substr(first + 1, second - first - 1);
  std::int64_t offset = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
    return {std::nullopt, "corrupt (the offset '" + std::string(digits) + "' is not a number)"};
  return {offset, {}};
}

}  // namespace

void write_checkpoint(const std::string& path, std::int64_t offset) {
  const std::string body = std::string(header) + "\n" + std::to_string(offset) + "\n";
  const std::string text = body + hex(fnv1a64(body)) + "\n";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create", tmp);
  try {
    write_all(fd, text, path, tmp);
    if (::fsync(fd) != 0) fail(path, "cannot fsync", tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_with(path, "cannot close", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_with(path, "cannot rename", tmp, err);
  }
  sync_directory(path);
}

checkpoint_read read_checkpoint(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return {std::nullopt, "absent"};
    return {std::nullopt, std::string("unreadable: ") + std::strerror(err)};
  }
  std::string text;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return {std::nullopt, std::string("unreadable: ") + std::strerror(err)};
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_file_size) {
      ::close(fd);
      return {std::nullopt, "corrupt (longer than a checkpoint can be)"};
    }
  }
  ::close(fd);
  if (text.empty()) return {std::nullopt, "torn or corrupt (empty)"};
  return parse(text);
}

void remove_checkpoint(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return;
    fail(path, "cannot remove");
  }
  sync_directory(path);
}

}  // namespace kactor::detail
