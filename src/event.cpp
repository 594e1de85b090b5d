#include <kactor/event.hpp>

namespace kactor {

std::optional<std::string_view> event::header(std::string_view name) const {
  if (reader_) return reader_->last(native_, name);
  if (extra_) {
    for (auto it = extra_->rbegin(); it != extra_->rend(); ++it)
      if (it->key == name) return std::string_view(it->value);
  }
  return std::nullopt;
}

headers event::all_headers() const {
  if (reader_) return reader_->all(native_);
  return extra_ ? *extra_ : headers{};
}

std::string event::describe() const {
  return to_string(topic_partition{std::string(topic_), partition_}, offset_);
}

}  // namespace kactor
