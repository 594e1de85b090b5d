#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace kactor {

/// A value of `T` that does not convert to or from other strong types, so a
/// partition id, an offset and a producer epoch cannot be swapped by accident.
template <class T, class Tag>
class strong_value {
 public:
  using value_type = T;

  constexpr strong_value() = default;
  constexpr explicit strong_value(T v) : value_(v) {}

  constexpr T value() const { return value_; }

  friend constexpr bool operator==(strong_value a, strong_value b) { return a.value_ == b.value_; }
  friend constexpr bool operator!=(strong_value a, strong_value b) { return a.value_ != b.value_; }
  friend constexpr bool operator<(strong_value a, strong_value b) { return a.value_ < b.value_; }
  friend constexpr bool operator<=(strong_value a, strong_value b) { return a.value_ <= b.value_; }
  friend constexpr bool operator>(strong_value a, strong_value b) { return a.value_ > b.value_; }
  friend constexpr bool operator>=(strong_value a, strong_value b) { return a.value_ >= b.value_; }
  friend std::ostream& operator<<(std::ostream& os, strong_value v) { return os << v.value_; }

 private:
  T value_{};
};

/// A Kafka partition number within one topic.
using partition_id = strong_value<std::int32_t, struct partition_id_tag>;

/// A position in a partition's log. `offset{n}` names the record at n; as a
/// committed or stored offset it means "the next record to read is n".
using offset = strong_value<std::int64_t, struct offset_tag>;

/// The offset after `o`: where reading goes on once the record at `o` is done.
constexpr offset next(offset o) {
  return offset{o.value() + 1};
}

/// A transactional producer's epoch (bumped when a producer is fenced).
using epoch = strong_value<std::int16_t, struct epoch_tag>;

/// One partition of one topic.
struct topic_partition {
  std::string topic;
  partition_id partition;

  friend bool operator==(const topic_partition& a, const topic_partition& b) {
    return a.partition == b.partition && a.topic == b.topic;
  }
  friend bool operator!=(const topic_partition& a, const topic_partition& b) { return !(a == b); }
  friend bool operator<(const topic_partition& a, const topic_partition& b) {
    return a.topic != b.topic ? a.topic < b.topic : a.partition < b.partition;
  }
};

/// "topic/partition": how messages and logs name a partition.
inline std::string to_string(const topic_partition& tp) {
  return tp.topic + "/" + std::to_string(tp.partition.value());
}

/// "topic/partition@offset": how messages and logs name a record.
inline std::string to_string(const topic_partition& tp, offset o) {
  return to_string(tp) + "@" + std::to_string(o.value());
}

}  // namespace kactor

template <>
struct std::hash<kactor::topic_partition> {
  std::size_t operator()(const kactor::topic_partition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31u +
           static_cast<std::size_t>(tp.partition.value());
  }
};
