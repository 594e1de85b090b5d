#pragma once
// exactly_once: the outputs a partition actor keeps while the previous
// transaction commits, until the group thread releases it.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <kactor/event.hpp>
#include <kactor/types.hpp>

#include "actors/delivery_tracker.hpp"

namespace kactor::detail {

/// The outputs one partition actor keeps during a commit, in emit order.
/// librdkafka takes records for the next transaction only once the commit
/// returned, so the actor keeps them until the release and then hands them to
/// the producer.
///
/// Their topics, keys and values are copied into one buffer that keeps its
/// capacity from one commit to the next, and a run of outputs to the same
/// topic stores its name once: keeping an output allocates nothing once the
/// buffers have grown, and frees nothing at the release. Owned and used by
/// one partition actor (one thread at a time).
class deferred_outputs {
  static constexpr std::size_t no_headers = static_cast<std::size_t>(-1);

  struct entry {
    std::size_t topic_at = 0, topic_len = 0;
    partition_id partition{-1};
    std::size_t key_at = 0, key_len = 0;
    std::size_t value_at = 0, value_len = 0;
    bool null_value = false;  // a tombstone: no value at all, not an empty one
    std::size_t hdrs = no_headers;
    delivery_tracker::entry* token = nullptr;
  };

 public:
  /// One kept output; its views stay valid until the next `add` or `clear`.
  struct output {
    std::string_view topic;
    partition_id partition;
    std::string_view key;
    std::string_view value;
    const headers& hdrs;
    delivery_tracker::entry* token;
  };

  /// Bookkeeping per output, beyond its bytes.
  static constexpr std::size_t entry_bytes = sizeof(entry);

  void add(std::string_view topic, partition_id partition, std::string_view key,
           std::string_view value, const headers& hdrs, delivery_tracker::entry* token) {
    entry e;
    if (!entries_.empty() && view(entries_.back().topic_at, entries_.back().topic_len) == topic) {
      e.topic_at = entries_.back().topic_at;
    } else {
      e.topic_at = append(topic);
    }
    e.topic_len = topic.size();
    e.partition = partition;
    e.key_at = append(key);
    e.key_len = key.size();
    e.value_at = append(value);
    e.value_len = value.size();
    e.null_value = value.data() == nullptr;
    e.token = token;
    if (!hdrs.empty()) {
      e.hdrs = headers_.size();
      headers_.push_back(hdrs);
      for (const auto& h : hdrs) header_bytes_ += h.key.size() + h.value.size();
    }
    entries_.push_back(e);
  }

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  /// What the kept outputs occupy: their bytes and bookkeeping. The actor
  /// holds (handles no record) once this reaches its bound.
  std::size_t bytes() const { return data_.size() + header_bytes_ + entries_.size() * entry_bytes; }

  output operator[](std::size_t i) const {
    const entry& e = entries_[i];
    return {view(e.topic_at, e.topic_len),
            e.partition,
            view(e.key_at, e.key_len),
            e.null_value ? std::string_view{} : view(e.value_at, e.value_len),
            e.hdrs == no_headers ? none_ : headers_[e.hdrs],
            e.token};
  }

  /// Forgets every output; the buffers keep their capacity.
  void clear() {
    data_.clear();
    entries_.clear();
    headers_.clear();
    header_bytes_ = 0;
  }

 private:
  std::size_t append(std::string_view bytes) {
    const auto at = data_.size();
    data_.append(bytes.data(), bytes.size());
    return at;
  }
  std::string_view view(std::size_t at, std::size_t len) const { return {data_.data() + at, len}; }

  std::string data_;
  std::vector<entry> entries_;
  /// Headers are rare; an output with some keeps its own copy here.
  std::vector<headers> headers_;
  std::size_t header_bytes_ = 0;
  headers none_;
};

}  // namespace kactor::detail
