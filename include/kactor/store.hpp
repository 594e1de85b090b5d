#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <kactor/error.hpp>

namespace kactor {

/// A key-value store of one agent's partition: a local RocksDB instance that
/// every write also goes to, as a record on the store's compacted changelog
/// topic `<group>-<store>-changelog` (same key, the partition's number). When
/// the partition is assigned (at start, after a rebalance or a crash) the
/// store is restored from that changelog before the partition's first record
/// is handled, so its state survives a crash, a lost disk and a move to
/// another process (docs/state.md).
///
/// Reached through `context::kv` from the partition actor's handlers only
/// (never from another thread); the reference is valid for the context's
/// lifetime. Reads see the handler's own writes at once.
///
/// at_least_once: a write's changelog record is acknowledged before the
/// offset of the record whose handler wrote it is stored, as its outputs are;
/// after a crash the record runs again, so a write may be applied twice.
///
/// Errors: a write the producer refuses at once throws `kafka_exception`
/// (the record is retried or dead-lettered as any failure); a local RocksDB
/// failure throws `store_error`.
class kv_store {
 public:
  virtual ~kv_store() = default;

  /// The value stored under `key`, if any.
  virtual std::optional<std::string> get(std::string_view key) = 0;

  /// Stores `value` under `key`: in the local DB and, as a record, in the changelog.
  virtual void put(std::string_view key, std::string_view value) = 0;

  /// Removes `key` (a tombstone on the changelog, so compaction drops it).
  virtual void del(std::string_view key) = 0;

  /// Calls `fn(key, value)` for each key in [from, to) in byte order (an
  /// empty `to`: up to the last key) until `fn` returns false. The views are
  /// valid during the call only.
  virtual void range(std::string_view from, std::string_view to,
                     const std::function<bool(std::string_view, std::string_view)>& fn) = 0;

  /// As `range`, over the keys that start with `prefix`.
  void scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) {
    std::string end(prefix);
    // The first key after every key with the prefix: drop trailing 0xff
    // bytes, then increment the last one (none left: scan to the end).
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    range(prefix, end, fn);
  }

  /// The store's name, as declared on the agent.
  virtual const std::string& name() const = 0;
};

/// A `kv_store` whose values are the Protobuf message `Message`, serialized.
/// Obtained with `context::store<Message>(name)`; a thin view, cheap to copy.
template <class Message>
class typed_store {
 public:
  explicit typed_store(kv_store& kv) : kv_(&kv) {}

  /// The message under `key`, if any. A stored value that does not parse as
  /// `Message` throws `irrecoverable_error` (the record goes to the DLQ).
  std::optional<Message> get(std::string_view key) const {
    auto bytes = kv_->get(key);
    if (!bytes) return std::nullopt;
    Message m;
    if (!m.ParseFromString(*bytes))
      throw irrecoverable_error("store " + kv_->name() + ": the value under key '" +
                                std::string(key) + "' does not parse as " + m.GetTypeName());
    return m;
  }

  /// Stores `msg` under `key`. A message that does not serialize throws
  /// `irrecoverable_error`.
  void put(std::string_view key, const Message& msg) {
    std::string bytes;
    if (!msg.SerializeToString(&bytes))
      throw irrecoverable_error("store " + kv_->name() + ": cannot serialize " + msg.GetTypeName());
    kv_->put(key, bytes);
  }

  void del(std::string_view key) { kv_->del(key); }

  /// The untyped store underneath, for scans.
  kv_store& kv() const { return *kv_; }

 private:
  kv_store* kv_;
};

}  // namespace kactor
