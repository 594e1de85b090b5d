#pragma once
// A `kactor::kv_store` in memory, in byte order as RocksDB keeps it: for
// tests of what is kept in stores (timers, requests, sagas) without RocksDB.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <kactor/store.hpp>

namespace kactor::test {

class memory_store final : public kv_store {
 public:
  explicit memory_store(std::string name = "memory") : name_(std::move(name)) {}

  std::optional<std::string> get(std::string_view key) override {
    auto it = data.find(std::string(key));
    if (it == data.end()) return std::nullopt;
    return it->second;
  }
  void put(std::string_view key, std::string_view value) override {
    data[std::string(key)] = std::string(value);
  }
  void del(std::string_view key) override { data.erase(std::string(key)); }
  void range(std::string_view from, std::string_view to,
             const std::function<bool(std::string_view, std::string_view)>& fn) override {
    for (auto it = data.lower_bound(std::string(from));
         it != data.end() && (to.empty() || it->first < to); ++it)
      if (!fn(it->first, it->second)) return;
  }
  const std::string& name() const override { return name_; }

  std::map<std::string, std::string> data;

 private:
  std::string name_;
};

}  // namespace kactor::test
