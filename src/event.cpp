#include <kactor/event.hpp>

#include <librdkafka/rdkafka.h>

namespace kactor {

std::optional<std::string_view> event::header(std::string_view name) const {
  if (native_) {
    rd_kafka_headers_t* hdrs = nullptr;
    auto* msg = static_cast<rd_kafka_message_t*>(const_cast<void*>(native_));
    if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
    const std::string key(name);
    const void* val = nullptr;
    size_t size = 0;
    if (rd_kafka_header_get_last(hdrs, key.c_str(), &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
      return std::nullopt;
    return std::string_view(static_cast<const char*>(val), val ? size : 0);
  }
  if (extra_) {
    for (auto it = extra_->rbegin(); it != extra_->rend(); ++it)
      if (it->key == name) return std::string_view(it->value);
  }
  return std::nullopt;
}

headers event::all_headers() const {
  headers out;
  if (native_) {
    rd_kafka_headers_t* hdrs = nullptr;
    auto* msg = static_cast<rd_kafka_message_t*>(const_cast<void*>(native_));
    if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
    const char* name = nullptr;
    const void* val = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; ++i)
      out.push_back(
          kactor::header{name, std::string(static_cast<const char*>(val), val ? size : 0)});
  } else if (extra_) {
    out = *extra_;
  }
  return out;
}

std::string event::describe() const {
  return to_string(topic_partition{std::string(topic_), partition_}, offset_);
}

}  // namespace kactor
