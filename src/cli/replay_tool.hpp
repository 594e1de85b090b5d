#pragma once
// `kactor replay`: moves a consumer group's committed offsets on one topic to
// a time, an offset, the start or the end, so that the group's next run
// reprocesses from there (the article's pattern 7). Refuses while the group
// has members: the coordinator would refuse too, and a running member would
// commit over the new offsets.

#include <chrono>
#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kactor::detail {

struct replay_options {
  std::string brokers, group, topic;
  enum class target { time, offset, earliest, latest };
  target to = target::earliest;
  /// ms since the epoch (`time`) or the offset (`offset`).
  std::int64_t value = 0;
  /// Prints what would change; commits nothing.
  bool dry_run = false;
  std::chrono::milliseconds timeout{10000};
};

/// One partition of the plan: the group's committed offset (-1: none) and
/// the new one; `clamped` when an `offset` target lay outside the log and the
/// log's start or end was taken instead.
struct replay_row {
  std::int32_t partition = 0;
  std::int64_t old_offset = -1;
  std::int64_t new_offset = 0;
  bool clamped = false;
};

/// Thrown when the group has active members (each named in the message).
class replay_refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Computes the new offset of every partition of `o.topic` and, unless
/// `o.dry_run`, commits them for `o.group` (AlterConsumerGroupOffsets).
/// Throws `replay_refused` while the group has members (nothing changes),
/// `kafka_exception` when the cluster cannot be reached, the topic does not
/// exist or the commit is refused.
std::vector<replay_row> run_replay(const replay_options& o);

/// The plan as the CLI prints it: a header line, then per partition
/// `<topic>/<p>: <old> -> <new>` (old "none" without a commit).
void print_replay(const replay_options& o, const std::vector<replay_row>& rows, std::ostream& out);

}  // namespace kactor::detail
