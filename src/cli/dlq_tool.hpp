#pragma once
// Operator tools for dead-letter topics, as `kactor dlq show` and
// `kactor dlq redrive` run them.

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/cli/record_reader.hpp"

namespace kactor::detail {

/// Reads `topic` from the beginning up to each partition's end offset as of the
/// call, partition by partition in offset order, and passes each record to
/// `on_record`; stops after `limit` records (0: no limit). Reads with
/// isolation.level=read_committed, joins no consumer group and commits
/// nothing. Returns the number of records passed. Throws `kafka_exception`
/// naming `brokers` when they cannot be reached within `timeout`, naming
/// `topic` when it does not exist, and when reading makes no progress for
/// `timeout`.
std::size_t read_dlq(const std::string& brokers, const std::string& topic, std::size_t limit,
                     std::chrono::milliseconds timeout,
                     const std::function<void(const topic_record&)>& on_record);

/// How much of a value `format_dlq_line` shows.
inline constexpr std::size_t preview_bytes = 64;

/// One line (no newline) for an operator:
/// `partition=0 offset=12 key="k" value="{\"id\":7}" source=orders/3@1234
/// agent=checker class=irrecoverable attempts=3 error="..."`. Text is quoted,
/// with `\"`, `\\`, `\n`, `\r`, `\t` and `\xNN` (other control characters and
/// bytes that are not UTF-8) escaped; a missing field or a null key or value
/// is `-`. A value longer than `preview_bytes` shows its start (cut at a
/// character boundary) and then `...(<size> bytes)`.
std::string format_dlq_line(const topic_record& r);

/// One JSON object (no newline): partition, offset, timestamp, key, value and
/// `headers`, every header in order as `{"name": ..., "value": ...}`. Each of
/// key, value, header name and header value is a JSON string when it is valid
/// UTF-8, and otherwise standard padded base64 (RFC 4648) under the field's
/// name plus `_base64` (`value_base64`, ...) instead; null is JSON null.
std::string format_dlq_json(const topic_record& r);

/// What to re-drive from a dead-letter topic, and where to.
struct redrive_options {
  std::string brokers;
  std::string dlq;
  /// Target topic for every record (not `dlq` itself); empty: each record's
  /// `kactor.dlq.source.topic`.
  std::string to;
  /// (header name, value) pairs: a record is re-driven only when, for each,
  /// the last header with that name has exactly that value.
  std::vector<std::pair<std::string, std::string>> where;
  /// Read and report, but produce nothing and commit nothing.
  bool dry_run = false;
  /// Longest wait for the cluster, and for reading or delivering to make progress.
  std::chrono::milliseconds timeout{30000};
  /// Where progress goes (records examined of those pending, rate, time
  /// left), every `progress_every` (a line each time; on a `terminal`, one
  /// line redrawn at most every 200 ms); none when null.
  std::ostream* progress = nullptr;
  std::chrono::milliseconds progress_every{2000};
  bool terminal = false;
};

/// What re-driving did (or, on a dry run, would do) with one record.
struct redrive_step {
  enum class outcome {
    /// Re-emitted to `target`.
    redriven,
    /// Does not match every `where`; passed over.
    not_matching,
    /// Matches, but has no `kactor.dlq.source.topic` and no `to` was given; passed over.
    no_target,
    /// Matches, but the dead letter lacks the record's value (the dead-letter
    /// topic could not hold it): re-driving it would send a null value.
    /// Refused and passed over; `source` says where the original is.
    value_omitted,
  };
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  outcome what = outcome::redriven;
  /// The topic the record goes to; empty unless `what` is `redriven`.
  std::string target;
  /// `value_omitted`: the original record, "<topic>/<partition>@<offset>".
  std::string source;
};

struct redrive_summary {
  /// The consumer group whose offsets record progress.
  std::string group;
  /// Records looked at: every one of them is committed past (unless dry run).
  std::int64_t examined = 0;
  /// Records re-driven, per target topic.
  std::map<std::string, std::int64_t> redriven;
  std::int64_t not_matching = 0;
  std::int64_t no_target = 0;
  std::int64_t value_omitted = 0;
  /// Per partition read, the offset reached: committed for the group unless dry run.
  std::map<std::int32_t, std::int64_t> reached;
};

/// The consumer group `redrive_dlq` uses for `dlq`: "kactor-redrive.<dlq>".
std::string redrive_group(const std::string& dlq);

/// Re-drives `opts.dlq` from where group `redrive_group(opts.dlq)` left off up
/// to each partition's end offset as of the call. Each record matching every
/// `opts.where` is produced (idempotently) with its original key and value to
/// `opts.to` or its `kactor.dlq.source.topic`, keeping its headers except the
/// `kactor.dlq.*` ones and adding `kactor.redrive.from` =
/// "<dlq>/<partition>@<offset>". Once every produced record is acknowledged,
/// the group's offsets are committed synchronously to the end offsets reached,
/// past matching and non-matching records alike. `on_step` hears about each
/// record as it is examined. A dry run produces and commits nothing.
///
/// Throws `kafka_exception` with a message naming the brokers, the unknown
/// topic (dead-letter or target) or the failed delivery; nothing is committed
/// then, and a later run re-drives again whatever this one produced before the
/// failure (at-least-once).
redrive_summary redrive_dlq(const redrive_options& opts,
                            const std::function<void(const redrive_step&)>& on_step);

}  // namespace kactor::detail
