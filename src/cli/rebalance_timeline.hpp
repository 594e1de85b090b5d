#pragma once
// What `kactor bench rebalance` saw in one repetition, and what it measures
// from it: pure data and functions, filled by the bench's coordinator from
// its member processes' reports (src/cli/rebalance_bench.cpp).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kactor::detail {

/// Nanoseconds of CLOCK_MONOTONIC (`std::chrono::steady_clock` on Linux):
/// one clock shared by every process of the machine, so the members' record
/// times and the coordinator's event times compare directly.
using mono_ns = std::int64_t;
mono_ns mono_now();

/// One member process. A restarted member is a new one (a new id), even when
/// it rejoins as the same static member.
struct bench_member {
  int id = 0;
  /// "member 2", "member 2 (restarted)".
  std::string label;
};

/// A record a member's handler was called with.
struct handled_record {
  mono_ns at = 0;
  int partition = 0;
  int member = 0;
};

/// A member's assignment as of `at`, reported whenever it changes: the
/// partitions it holds, each with the count of times it was revoked from
/// this member (`partition_stats::revocations`).
struct member_status {
  mono_ns at = 0;
  int member = 0;
  std::map<int, std::uint64_t> held;
  /// Revocations over all partitions, held or not.
  std::uint64_t revocations = 0;
  /// `agent_stats::last_revoke`: how long the member's last revocation
  /// held its rebalance callback.
  double last_revoke_ms = 0;
};

/// A moment worth drawing: "member 2 starts", "member 1 killed", "settled".
struct timeline_event {
  mono_ns at = 0;
  std::string what;
};

/// One repetition: the change (a member joins, leaves, crashes or restarts)
/// at `change`, after a steady window from `steady_from`; `settled` is when
/// the group had every partition processing again under its new owners.
struct rebalance_timeline {
  int partitions = 0;
  std::vector<bench_member> members;
  std::vector<handled_record> records;
  /// In the order they were seen; a member that exits or is killed gets a
  /// last status with nothing held.
  std::vector<member_status> statuses;
  std::vector<timeline_event> events;
  /// The members in the group after the change.
  std::set<int> final_members;
  mono_ns steady_from = 0;
  mono_ns change = 0;
  mono_ns settled = 0;
  /// When the coordinator saw the group settled: the owners after the change
  /// are taken from the statuses up to here. Later than `settled`: a member
  /// samples its assignment every few ms, so its status can follow its
  /// first records.
  mono_ns observed = 0;
};

/// Partition -> the member holding it at `at`, from each member's latest
/// status at or before `at` (only `among` members, if given).
std::map<int, int> owners_at(const rebalance_timeline& tl, mono_ns at,
                             const std::set<int>* among = nullptr);

/// Who held each partition just before the change, and after it: as of
/// `tl.observed`, among `tl.final_members`.
struct ownership {
  std::map<int, int> before;
  std::map<int, int> after;
  /// Whether `partition`, held after the change, has a new owner.
  bool moved(int partition) const;
};
ownership owners(const rebalance_timeline& tl);

/// When the group settled (`tl.observed` set): the last of the first records
/// the moved partitions had from their new owners since the change;
/// `tl.observed` if no partition moved.
mono_ns settle_time(const rebalance_timeline& tl);

/// Whether every partition that did not move has had a record after
/// `tl.settled`, so a gap still open at settle has its end.
bool unmoved_closed(const rebalance_timeline& tl);

/// Whether the group has settled after the change at `tl.change`, as of the
/// records and statuses in `tl`: `tl.final_members` hold every partition
/// between them without overlap, each holds one at least (when there are
/// enough partitions), and every partition whose owner changed has had a
/// record handled by its new owner since the change.
bool group_settled(const rebalance_timeline& tl);

/// A partition that changed owner.
struct moved_partition {
  int partition = 0;
  int from = 0;
  int to = 0;
  /// change -> first record handled by the new owner.
  double first_record_ms = 0;
  /// Restoring the partition's state stores before its first record: set
  /// once kactor has state stores; empty until then.
  std::optional<double> restore_ms;
};

/// A partition whose owner is the same before and after the change.
struct unmoved_partition {
  int partition = 0;
  int member = 0;
  /// The longest gap between consecutive records of the partition that ends
  /// after the change and starts before settled.
  double longest_gap_ms = 0;
  /// Whether the owner had it revoked (and assigned back) meanwhile.
  bool revoked = false;
};

struct rebalance_measures {
  std::vector<moved_partition> moved;
  std::vector<unmoved_partition> unmoved;
  /// The longest gap between consecutive records of any partition in the
  /// steady window before the change: the floor set by the feed rate and
  /// fetch batching.
  double steady_gap_ms = 0;
  /// change -> settled.
  double settle_ms = 0;
  /// Unmoved partitions revoked meanwhile.
  int partitions_revoked = 0;
  /// The longest `last_revoke` of a member that had partitions revoked after
  /// the change and is still in the group: 0 if none did.
  double revoke_callback_ms = 0;
};

/// Measures a settled repetition, owners after the change taken among
/// `tl.final_members` as of `tl.observed`: `tl.settled` set, and every unmoved
/// partition has a record after it (so a gap open at settle has its end).
rebalance_measures measure(const rebalance_timeline& tl);

/// The end of the picture of `tl`: settled plus a sixth of the steady window
/// and the rebalance (300 ms at least), so the flow after settle shows. The
/// coordinator keeps the members running until then.
mono_ns view_end(const rebalance_timeline& tl);

/// The timeline as an SVG picture: one lane per partition, a mark per
/// handled record coloured by member, the events as vertical lines, from
/// the steady window to `view_end`.
std::string render_timeline_svg(const rebalance_timeline& tl, const std::string& title);

}  // namespace kactor::detail
