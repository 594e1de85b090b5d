#pragma once
// The checkpoint of one store partition: the changelog offset its local DB reflects.

#include <cstdint>
#include <optional>
#include <string>

namespace kactor::detail {

/// What `read_checkpoint` found.
struct checkpoint_read {
  /// The offset, if the file exists and is whole.
  std::optional<std::int64_t> offset;
  /// Why there is none: "absent", or what is wrong with the file (torn,
  /// unparsable, bad checksum). Empty when `offset` is set.
  std::string problem;
};

/// Writes `offset` to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. A crash at
/// any point leaves either the old file or the new one whole. Throws
/// `store_error` when the file system refuses.
void write_checkpoint(const std::string& path, std::int64_t offset);

/// Reads a checkpoint written by `write_checkpoint`. A file that is not whole
/// (torn, edited, from another format) gives no offset, and says why.
checkpoint_read read_checkpoint(const std::string& path);

/// Removes the checkpoint and fsyncs its directory, so a crash after it
/// cannot bring it back over a wiped store (absent: no-op). Throws
/// `store_error` when it cannot.
void remove_checkpoint(const std::string& path);

}  // namespace kactor::detail
