#pragma once
// Request-reply, the requester's side: the requests a task made and has not
// had answered, kept in its store `kactor.requests` by correlation id.

#include <optional>
#include <string_view>

#include <kactor/reply.hpp>
#include <kactor/store.hpp>

namespace kactor::detail {

/// The internal store of pending requests (agent_config::requests).
inline constexpr std::string_view request_store_name = "kactor.requests";
/// The internal timer name of a request's timeout (key: the correlation id).
inline constexpr std::string_view request_timer_name = "kactor.request";

/// Pending requests over a `kv_store`, one key per correlation id. Used on
/// the partition actor only.
class request_table {
 public:
  explicit request_table(kv_store& kv) : kv_(&kv) {}

  void put(const pending_request& r);
  /// The pending request `id`, if any. A stored value that does not read
  /// back throws `irrecoverable_error`.
  std::optional<pending_request> get(std::string_view id);
  /// Removes the pending request `id`: a request is answered once, by its
  /// reply or by its timeout, whichever is handled first.
  void remove(std::string_view id) { kv_->del(id); }

 private:
  kv_store* kv_;
};

}  // namespace kactor::detail
