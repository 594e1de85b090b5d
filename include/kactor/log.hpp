#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace kactor {

/// How severe a log line is; a log set to one level writes that level and
/// the ones above it. `off` writes nothing.
enum class log_level { trace, debug, info, warn, error, off };

/// "trace", "debug", "info", "warn", "error" or "off".
const char* to_string(log_level l) noexcept;

/// How lines written to stderr look: `text` ("2026-11-30T15:04:05.123
/// warning kactor: message", local time), or `json`, one object per line
/// (`{"time_ms":1764515045123,"level":"warn","logger":"kactor","message":"..."}`,
/// milliseconds since the epoch; the message's bytes as logged).
enum class log_format { text, json };

/// "text" or "json".
const char* to_string(log_format f) noexcept;

/// Receives every line kactor logs at or above the configured level, instead
/// of stderr: its level and its message (no time, no newline). Called on the
/// thread that logged (a CAF worker, an agent's group thread, a librdkafka
/// thread), possibly from several at once: it must be thread-safe, quick and
/// must not throw.
using log_sink = std::function<void(log_level level, std::string_view message)>;

/// kactor's log: level, format, and where it goes. YAML: `log.level`,
/// `log.format`; the sink only in code.
struct log_config {
  log_level level = log_level::info;
  /// For stderr; a `sink` gets messages unformatted.
  log_format format = log_format::text;
  /// Empty: stderr (never stdout, which stays the program's own).
  log_sink sink;
};

/// Applies `cfg` to kactor's log. The log is one per process: each
/// `runtime` applies its config's `log` when constructed, so with several
/// runtimes in one process the last one constructed decides. Thread-safe.
void configure_log(const log_config& cfg);

/// Whether a line at `level` would be written.
bool log_enabled(log_level level) noexcept;

/// Writes `message` to kactor's log at `level` (agents may log through it
/// too, to share its level and sink).
void log(log_level level, std::string_view message);

/// As `log`, formatting `format` with `args` (fmt syntax, `{}`) only when
/// `level` is enabled.
template <class... Args>
void log(log_level level, fmt::format_string<Args...> format, Args&&... args) {
  if (log_enabled(level))
    log(level, std::string_view(fmt::format(format, std::forward<Args>(args)...)));
}

}  // namespace kactor
