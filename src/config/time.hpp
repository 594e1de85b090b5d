#pragma once
// Points in time as people write them (ISO-8601) and as Kafka keeps them
// (milliseconds since the epoch): for `start_from` in the configuration and
// the CLI's `--from` options.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kactor::detail {

/// `text` as milliseconds since the epoch: a whole number of milliseconds, or
/// ISO-8601 `YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)`. nullopt if it is
/// neither (a time without its zone is refused: it would mean another instant
/// on every machine).
std::optional<std::int64_t> parse_time(std::string_view text);

/// `ms` since the epoch as ISO-8601 UTC with milliseconds: 2026-12-01T10:00:00.123Z.
std::string format_time(std::int64_t ms);

}  // namespace kactor::detail
