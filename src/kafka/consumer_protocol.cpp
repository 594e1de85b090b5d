#include "src/kafka/consumer_protocol.hpp"

#include <cstdint>
#include <memory>

namespace kactor::detail {

namespace {

/// Reads the consumer protocol's big-endian fields; any read past the end
/// fails the reader for good.
class reader {
 public:
  reader(const void* data, std::size_t size)
      : p_(static_cast<const unsigned char*>(data)), end_(p_ + (data ? size : 0)) {}

  bool ok() const { return ok_; }

  std::int64_t integer(int bytes) {
    if (!need(bytes)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | *p_++;
    // Sign-extend from `bytes` wide.
    const int shift = 64 - 8 * bytes;
    return static_cast<std::int64_t>(v << shift) >> shift;
  }

  std::string string() {
    const auto n = integer(2);
    if (n < 0 || !need(n)) return fail(), std::string();
    std::string s(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
    p_ += n;
    return s;
  }

  /// Skips a nullable byte array (length -1 for null).
  void skip_bytes() {
    const auto n = integer(4);
    if (n < -1) fail();
    if (n > 0 && need(n)) p_ += n;
  }

  /// [topic [partition]], as in owned partitions and assignments.
  std::vector<topic_partition> partitions() {
    std::vector<topic_partition> out;
    const auto topics = count();
    for (std::int64_t t = 0; t < topics && ok_; ++t) {
      const auto topic = string();
      const auto n = count();
      for (std::int64_t i = 0; i < n && ok_; ++i)
        out.push_back({topic, partition_id{static_cast<std::int32_t>(integer(4))}});
    }
    return out;
  }

  /// An array's length; a null array (-1) is empty.
  std::int64_t count() {
    const auto n = integer(4);
    if (n < -1 || n > end_ - p_) fail();  // every element takes at least a byte
    return ok_ ? n : 0;
  }

 private:
  bool need(std::int64_t n) {
    if (ok_ && n <= end_ - p_) return true;
    fail();
    return false;
  }
  void fail() { ok_ = false; }

  const unsigned char* p_;
  const unsigned char* end_;
  bool ok_ = true;
};

struct group_list_deleter {
  void operator()(const rd_kafka_group_list* p) const noexcept { rd_kafka_group_list_destroy(p); }
};

}  // namespace

std::optional<std::vector<topic_partition>> subscription_owned_partitions(const void* data,
                                                                          std::size_t size) {
  reader r(data, size);
  const auto version = r.integer(2);
  const auto topics = r.count();
  for (std::int64_t i = 0; i < topics && r.ok(); ++i) r.string();
  r.skip_bytes();  // user data
  // Version 1 added the owned partitions; later versions append more fields.
  auto owned = version >= 1 ? r.partitions() : std::vector<topic_partition>{};
  if (!r.ok() || version < 0) return std::nullopt;
  return owned;
}

std::optional<std::vector<topic_partition>> assignment_partitions(const void* data,
                                                                  std::size_t size) {
  if (size == 0) return std::vector<topic_partition>{};
  reader r(data, size);
  const auto version = r.integer(2);
  auto parts = r.partitions();
  if (!r.ok() || version < 0) return std::nullopt;
  return parts;
}

std::optional<group_members> describe_group_members(rd_kafka_t* rk, const std::string& group,
                                                    int timeout_ms) {
  const rd_kafka_group_list* raw = nullptr;
  if (auto err = rd_kafka_list_groups(rk, group.c_str(), &raw, timeout_ms))
    throw kafka_exception(make_error(err, "describe group " + group));
  std::unique_ptr<const rd_kafka_group_list, group_list_deleter> list{raw};
  group_members out;
  out.state = "Dead";
  for (int g = 0; g < list->group_cnt; ++g) {
    const auto& info = list->groups[g];
    if (group != info.group) continue;
    if (info.err) throw kafka_exception(make_error(info.err, "describe group " + group));
    out.state = info.state ? info.state : "";
    if (info.member_cnt > 0 &&
        std::string(info.protocol_type ? info.protocol_type : "") != "consumer")
      return std::nullopt;
    for (int m = 0; m < info.member_cnt; ++m) {
      const auto& mi = info.members[m];
      auto owned = subscription_owned_partitions(mi.member_metadata,
                                                 static_cast<std::size_t>(mi.member_metadata_size));
      auto assigned = assignment_partitions(mi.member_assignment,
                                            static_cast<std::size_t>(mi.member_assignment_size));
      if (!owned || !assigned) return std::nullopt;
      out.members.push_back({mi.member_id, std::move(*owned), std::move(*assigned)});
    }
  }
  return out;
}

}  // namespace kactor::detail
