#pragma once
// The state stores of one task, as its partition actor sees them.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <kactor/store.hpp>
#include <kactor/types.hpp>

#include "actors/partition_source.hpp"

namespace kactor::detail {

/// A task's stores: the group layer opens and restores them (src/group/task_stores),
/// the partition actor uses them. The actor takes no record before `ready()`.
class task_state {
 public:
  /// Sends one changelog record of a store: `value` with a null data pointer
  /// is a tombstone.
  using changelog_emit =
      std::function<void(const std::string& topic, std::string_view key, std::string_view value)>;

  virtual ~task_state() = default;

  /// The store `name`, or nullptr if the agent declared no such store.
  virtual kv_store* find(std::string_view name) = 0;
  /// The declared stores' names, comma-separated (for errors).
  virtual std::string names() const = 0;
  /// Routes every store's changelog records through `emit` (the actor's
  /// context, so they are tied to the record being handled). Called by the
  /// actor once `ready()`, before its first record; the stores are used by it only.
  virtual void bind(changelog_emit emit) = 0;
  /// Whether every store is restored (true from then on).
  virtual bool ready() const = 0;
  /// Calls `wake` once when the stores are restored: on the restoring thread,
  /// or at once on the calling thread if they already are. `wake` must not block.
  virtual void when_ready(std::function<void()> wake) = 0;
  /// Once ready: lane `lane`'s committed offset, asked after the restore
  /// (-1: none known; the consumer's reset policy decides where it starts).
  virtual kactor::offset resume_at(std::uint32_t lane) const = 0;

  // exactly_once: writes reach the local DBs only once their transaction
  // committed (no-ops at_least_once).
  /// The actor's offsets up to `until` (by lane) go into a commit: writes so
  /// far belong to it, later ones to the next transaction.
  virtual void seal(const lane_offsets& until) = 0;
  /// The sealed writes' transaction committed (the release): they go to the DBs.
  virtual void commit_sealed() = 0;
  /// The task reads again from `committed`, its last committed offsets by
  /// lane (a rewind, a revocation): open writes are dropped; sealed ones are
  /// applied if `committed` covers them (their commit landed), else dropped.
  virtual void roll_back(const lane_offsets& committed) = 0;
};

}  // namespace kactor::detail
