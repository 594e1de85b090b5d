#include "actors/request_table.hpp"

#include <cstdint>
#include <string>

#include <kactor/error.hpp>

namespace kactor::detail {

namespace {

// A stored request: each field as a 4-byte big-endian length and its bytes,
// then the two times as 8 bytes each.
void put_u64(std::string& out, std::uint64_t v, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(v >> shift));
}

void put_field(std::string& out, std::string_view f) {
  put_u64(out, f.size(), 4);
  out.append(f);
}

class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}
  std::uint64_t u64(int bytes) {
    need(static_cast<std::size_t>(bytes));
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in_[pos_++]);
    return v;
  }
  std::string field() {
    const auto n = static_cast<std::size_t>(u64(4));
    need(n);
    std::string f(in_.substr(pos_, n));
    pos_ += n;
    return f;
  }

 private:
  void need(std::size_t n) const {
    if (in_.size() - pos_ < n)
      throw irrecoverable_error("store " + std::string(request_store_name) +
                                ": a pending request's value is truncated");
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

void request_table::put(const pending_request& r) {
  std::string v;
  v.reserve(32 + r.topic.size() + r.key.size() + r.value.size());
  put_field(v, r.topic);
  put_field(v, r.key);
  put_field(v, r.value);
  put_u64(v, static_cast<std::uint64_t>(r.sent_ms), 8);
  put_u64(v, static_cast<std::uint64_t>(r.deadline_ms), 8);
  kv_->put(r.correlation_id, v);
}

std::optional<pending_request> request_table::get(std::string_view id) {
  const auto v = kv_->get(id);
  if (!v) return std::nullopt;
  reader in(*v);
  pending_request r;
  r.correlation_id = std::string(id);
  r.topic = in.field();
  r.key = in.field();
  r.value = in.field();
  r.sent_ms = static_cast<std::int64_t>(in.u64(8));
  r.deadline_ms = static_cast<std::int64_t>(in.u64(8));
  return r;
}

}  // namespace kactor::detail
