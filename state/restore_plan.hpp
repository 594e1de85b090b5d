#pragma once
// Where a store partition's restore starts: resume from its checkpoint, or
// wipe the local DB and read the whole changelog.

#include <cstdint>
#include <optional>
#include <string>

namespace kactor::detail {

/// What is known when a task is assigned.
struct restore_inputs {
  /// The local DB opened (false: corrupt or unreadable).
  bool db_opened = true;
  /// Why it did not open (when `db_opened` is false).
  std::string db_problem;
  /// The trusted checkpoint, if any, and why there is none otherwise.
  std::optional<std::int64_t> checkpoint;
  std::string checkpoint_problem = "absent";
  /// The changelog partition's first offset and its end (read_committed).
  std::int64_t log_start = 0;
  std::int64_t log_end = 0;
};

struct restore_plan {
  /// Remove the local DB and start from `log_start`.
  bool wipe = false;
  /// The first changelog offset to read; reading ends at `log_end`.
  std::int64_t from = 0;
  /// Why, for the log: "resuming from checkpoint 120", "checkpoint 900 is
  /// beyond the changelog's end 400", ...
  std::string why;
};

/// The decision table (docs/state.md):
/// - DB did not open → wipe, from log_start;
/// - no checkpoint → wipe, from log_start;
/// - checkpoint beyond log_end (the changelog was recreated or truncated) → wipe;
/// - checkpoint before log_start (records it needs were deleted) → wipe;
/// - otherwise resume from the checkpoint.
restore_plan plan_restore(const restore_inputs& in);

}  // namespace kactor::detail
