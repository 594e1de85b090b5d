#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
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
/// warning kactor: agent orders: orders/3: message", local time), or `json`,
/// one object per line (`{"time_ms":1764515045123,"level":"warn",
/// "logger":"kactor","agent":"orders","topic":"orders","partition":3,
/// "message":"..."}`, milliseconds since the epoch; the message's bytes as
/// logged; `agent`, `topic` and `partition` only where the line is about them,
/// see `log_subject`).
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
  /// stderr is a terminal: `log_progress` lines are drawn there. Unset:
  /// detected (`isatty`). Only for the `text` format without a `sink`; only
  /// in code.
  std::optional<bool> terminal;
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

/// What a line is about: an agent, and one of its input partitions. The
/// `json` format writes them as the fields `agent`, `topic` and `partition`
/// beside the message; `text` and a `log_sink` get them before it, as
/// "agent orders: orders/3: message". An empty agent or topic, or a negative
/// partition, is left out. The views need only live for the call.
struct log_subject {
  log_subject() = default;
  /// An agent: `{agent}`.
  log_subject(std::string_view agent_name) : agent(agent_name) {}
  /// An agent's input partition: `{agent, topic, partition}`.
  log_subject(std::string_view agent_name, std::string_view topic_name, std::int32_t p)
      : agent(agent_name), topic(topic_name), partition(p) {}

  std::string_view agent;
  std::string_view topic;
  std::int32_t partition = -1;
};

/// `log` of a line about `about`. (A name of its own: under C++17 a braced
/// subject would also convert to `log`'s format string.)
void log_about(log_level level, const log_subject& about, std::string_view message);

/// As `log_about`, formatting `format` with `args` only when `level` is enabled.
template <class... Args>
void log_about(log_level level, const log_subject& about, fmt::format_string<Args...> format,
               Args&&... args) {
  if (log_enabled(level))
    log_about(level, about, std::string_view(fmt::format(format, std::forward<Args>(args)...)));
}

/// A long operation's progress (a state store's restore: records done of
/// all, rate, time left). When the log goes to a terminal (see
/// `log_config::terminal`) and `info` is enabled, it is the last line of
/// stderr, redrawn in place by the next call and kept below the log lines
/// written meanwhile, until `log_progress_done`; otherwise nothing, and the
/// caller logs periodic lines instead (`log_progress_shown`). Any thread;
/// operations running at once share the one line.
void log_progress(const log_subject& about, std::string_view text);
/// Clears the progress line (if any).
void log_progress_done();
/// Whether `log_progress` draws: the log is on a terminal at `info`.
bool log_progress_shown() noexcept;

}  // namespace kactor
