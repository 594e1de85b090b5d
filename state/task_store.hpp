#pragma once
// A store partition as a handler sees it: the local DB, with every write also
// sent to the changelog.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <kactor/store.hpp>

#include "state/rocks_store.hpp"

namespace kactor::detail {

/// `kactor::kv_store` over one `rocks_store`. Each write goes first to the
/// changelog writer (which may throw: then the DB is untouched) and then to
/// the DB. Owned by the task's stores, used by its partition actor only.
class task_store final : public kv_store {
 public:
  /// Sends one changelog record; a value with a null data pointer is a
  /// tombstone (a delete).
  using changelog_writer = std::function<void(std::string_view key, std::string_view value)>;

  task_store(std::string name, std::unique_ptr<rocks_store> db);

  /// Where writes' changelog records go; set by the partition actor that uses
  /// the store (a write before it throws `std::logic_error`).
  void bind(changelog_writer writer) { writer_ = std::move(writer); }

  std::optional<std::string> get(std::string_view key) override;
  void put(std::string_view key, std::string_view value) override;
  void del(std::string_view key) override;
  void range(std::string_view from, std::string_view to,
             const std::function<bool(std::string_view, std::string_view)>& fn) override;
  const std::string& name() const override { return name_; }

  rocks_store& db() { return *db_; }

 private:
  std::string name_;
  std::unique_ptr<rocks_store> db_;
  changelog_writer writer_;
};

}  // namespace kactor::detail
