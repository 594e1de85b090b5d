#include "actors/timer_table.hpp"

#include <algorithm>

#include <kactor/error.hpp>

namespace kactor::detail {

namespace {

constexpr char by_due = 'd';
constexpr char by_name = 'n';

void put_due(std::string& out, std::int64_t due_ms) {
  const auto u = static_cast<std::uint64_t>(std::max<std::int64_t>(due_ms, 0));
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(u >> shift));
}

std::int64_t read_due(std::string_view bytes) {
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i)
    u = (u << 8) | static_cast<unsigned char>(bytes[i]);
  return static_cast<std::int64_t>(u);
}

std::string name_key(std::string_view name, std::string_view key) {
  std::string k;
  k.reserve(2 + name.size() + key.size());
  k.push_back(by_name);
  k.append(name).push_back('\0');
  k.append(key);
  return k;
}

std::string due_key(std::int64_t due_ms, std::string_view name, std::string_view key) {
  std::string k;
  k.reserve(10 + name.size() + key.size());
  k.push_back(by_due);
  put_due(k, due_ms);
  k.append(name).push_back('\0');
  k.append(key);
  return k;
}

void check_name(std::string_view name) {
  if (name.empty() || name.find('\0') != std::string_view::npos)
    throw irrecoverable_error("a timer's name must be non-empty text without NUL bytes");
}

}  // namespace

void timer_table::schedule(std::string_view name, std::string_view key, std::int64_t due_ms,
                           std::string_view payload) {
  check_name(name);
  due_ms = std::max<std::int64_t>(due_ms, 0);
  const auto nk = name_key(name, key);
  if (const auto old = kv_->get(nk)) {
    const auto old_due = read_due(*old);
    if (old_due != due_ms) kv_->del(due_key(old_due, name, key));
  }
  std::string due;
  put_due(due, due_ms);
  kv_->put(due_key(due_ms, name, key), payload);
  kv_->put(nk, due);
}

bool timer_table::cancel(std::string_view name, std::string_view key) {
  const auto nk = name_key(name, key);
  const auto old = kv_->get(nk);
  if (!old) return false;
  kv_->del(due_key(read_due(*old), name, key));
  kv_->del(nk);
  return true;
}

std::optional<std::int64_t> timer_table::due(std::string_view name, std::string_view key) {
  if (const auto v = kv_->get(name_key(name, key))) return read_due(*v);
  return std::nullopt;
}

std::optional<timer> timer_table::find(std::string_view name, std::string_view key,
                                       std::int64_t due_ms) {
  if (due(name, key) != due_ms) return std::nullopt;
  return timer{std::string(name), std::string(key), due_ms,
               kv_->get(due_key(due_ms, name, key)).value_or(std::string())};
}

std::optional<timer> timer_table::take(std::string_view name, std::string_view key,
                                       std::int64_t due_ms) {
  const auto nk = name_key(name, key);
  const auto old = kv_->get(nk);
  if (!old || read_due(*old) != due_ms) return std::nullopt;
  const auto dk = due_key(due_ms, name, key);
  timer t{std::string(name), std::string(key), due_ms, kv_->get(dk).value_or(std::string())};
  kv_->del(dk);
  kv_->del(nk);
  return t;
}

void timer_table::each(const std::function<bool(const timer&)>& fn) {
  timer t;
  kv_->scan(std::string_view(&by_due, 1), [&](std::string_view k, std::string_view v) {
    // d + 8 bytes of due + name + NUL + key
    if (k.size() < 10) return true;
    const auto rest = k.substr(9);
    const auto nul = rest.find('\0');
    if (nul == std::string_view::npos) return true;
    t.due_ms = read_due(k.substr(1, 8));
    t.name.assign(rest.substr(0, nul));
    t.key.assign(rest.substr(nul + 1));
    t.payload.assign(v);
    return fn(t);
  });
}

}  // namespace kactor::detail
