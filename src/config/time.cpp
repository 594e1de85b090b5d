#include "src/config/time.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace kactor::detail {

std::optional<std::int64_t> parse_time(std::string_view text) {
  const std::string s(text);
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return s.size() <= 15 ? std::optional<std::int64_t>(std::stoll(s)) : std::nullopt;
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19)
    return std::nullopt;
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    std::int64_t frac = 0, scale = 1000;
    std::size_t digits = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits)
      if (scale > 1) frac += (s[i] - '0') * (scale /= 10);
    if (digits == 0) return std::nullopt;
    ms += frac;
  }
  if (i + 1 == s.size() && s[i] == 'Z') return ms;
  int hh = 0, mm = 0;
  if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') &&
      std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) == 2 && s[i + 3] == ':' && hh <= 23 &&
      mm <= 59) {
    const std::int64_t offset_ms = (hh * 60 + mm) * 60000LL;
    return s[i] == '+' ? ms - offset_ms : ms + offset_ms;
  }
  return std::nullopt;
}

std::string format_time(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace kactor::detail
