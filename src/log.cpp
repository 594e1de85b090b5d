#include <kactor/log.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace kactor {

const char* to_string(log_level l) noexcept {
  switch (l) {
    case log_level::trace:
      return "trace";
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
    case log_level::off:
      return "off";
  }
  return "unknown";
}

const char* to_string(log_format f) noexcept {
  return f == log_format::json ? "json" : "text";
}

namespace {

spdlog::level::level_enum to_spdlog(log_level l) {
  switch (l) {
    case log_level::trace:
      return spdlog::level::trace;
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warn:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
    case log_level::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

log_level from_spdlog(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
      return log_level::trace;
    case spdlog::level::debug:
      return log_level::debug;
    case spdlog::level::info:
      return log_level::info;
    case spdlog::level::warn:
      return log_level::warn;
    default:
      return log_level::error;
  }
}

/// Hands each line to the user's sink.
class callback_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit callback_sink(log_sink fn) : fn_(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    fn_(from_spdlog(msg.level), std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  log_sink fn_;
};

/// The subject of the line being logged on this thread (`log_about`, JSON
/// format): the JSON sink writes it as fields.
thread_local const log_subject* tl_subject = nullptr;

/// `text` as the contents of a JSON string.
void append_json(std::string& line, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '"':
        line += "\\\"";
        break;
      case '\\':
        line += "\\\\";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      case '\t':
        line += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          line += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else
          line += c;
    }
  }
}

/// One JSON object per line on stderr.
class json_stderr_sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto t = msg.time.time_since_epoch();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
    std::string line = fmt::format(R"({{"time_ms":{},"level":"{}","logger":"kactor")", ms,
                                   to_string(from_spdlog(msg.level)));
    if (const auto* about = tl_subject) {
      if (!about->agent.empty()) {
        line += R"(,"agent":")";
        append_json(line, about->agent);
        line += '"';
      }
      if (!about->topic.empty()) {
        line += R"(,"topic":")";
        append_json(line, about->topic);
        line += '"';
      }
      if (about->partition >= 0) line += fmt::format(R"(,"partition":{})", about->partition);
    }
    line += R"(,"message":")";
    append_json(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "\"}\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

/// Text lines on a terminal's stderr, with a progress line kept last: each
/// log line clears it, is written, and draws it again below.
class terminal_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void progress(const std::string& text) {
    std::lock_guard lock(mutex_);
    progress_ = text;
    write("\r\x1b[K" + progress_);
  }
  void progress_done() {
    std::lock_guard lock(mutex_);
    if (progress_.empty()) return;
    progress_.clear();
    write("\r\x1b[K");
  }

 private:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string out = progress_.empty() ? std::string() : "\r\x1b[K";
    out.append(formatted.data(), formatted.size());
    out += progress_;
    write(out);
  }
  void flush_() override { std::fflush(stderr); }
  static void write(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stderr);
    std::fflush(stderr);
  }
  std::string progress_;
};

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%e %l kactor: %v";

std::shared_ptr<spdlog::logger> make_logger(const log_config& cfg,
                                            std::shared_ptr<terminal_sink>& terminal) {
  spdlog::sink_ptr sink;
  if (cfg.sink) {
    sink = std::make_shared<callback_sink>(cfg.sink);
  } else if (cfg.format == log_format::json) {
    sink = std::make_shared<json_stderr_sink>();
  } else if (cfg.terminal.value_or(isatty(STDERR_FILENO) == 1)) {
    terminal = std::make_shared<terminal_sink>();
    sink = terminal;
    sink->set_pattern(kTextPattern);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern(kTextPattern);
  }
  auto logger = std::make_shared<spdlog::logger>("kactor", std::move(sink));
  logger->set_level(to_spdlog(cfg.level));
  return logger;
}

std::shared_ptr<spdlog::logger> make_logger(const log_config& cfg) {
  std::shared_ptr<terminal_sink> terminal;
  return make_logger(cfg, terminal);
}

// The current logger; replaced whole so a thread writing through the old one
// keeps it alive. Its level is mirrored in an atomic for the cheap check.
std::mutex g_mx;
std::shared_ptr<spdlog::logger> g_logger = make_logger({});
std::atomic<int> g_level{static_cast<int>(log_level::info)};
/// The stderr JSON sink is in use: subjects become fields, not a prefix.
std::atomic<bool> g_fields{false};

/// The terminal sink of the current logger, if it has one.
std::shared_ptr<terminal_sink> g_terminal;

std::shared_ptr<spdlog::logger> current() {
  std::lock_guard lock(g_mx);
  return g_logger;
}

std::shared_ptr<terminal_sink> terminal() {
  std::lock_guard lock(g_mx);
  return g_terminal;
}

/// "agent A: T/P: message", for the text format and a `log_sink`.
std::string with_prefix(const log_subject& about, std::string_view message) {
  std::string line;
  if (!about.agent.empty()) line = fmt::format("agent {}: ", about.agent);
  if (!about.topic.empty() && about.partition >= 0)
    line += fmt::format("{}/{}: ", about.topic, about.partition);
  else if (!about.topic.empty())
    line += fmt::format("{}: ", about.topic);
  else if (about.partition >= 0)
    line += fmt::format("partition {}: ", about.partition);
  line += message;
  return line;
}

}  // namespace

void configure_log(const log_config& cfg) {
  std::shared_ptr<terminal_sink> terminal;
  auto logger = make_logger(cfg, terminal);
  std::lock_guard lock(g_mx);
  if (g_terminal) g_terminal->progress_done();
  g_terminal = std::move(terminal);
  g_logger = std::move(logger);
  g_level.store(static_cast<int>(cfg.level), std::memory_order_relaxed);
  g_fields.store(!cfg.sink && cfg.format == log_format::json, std::memory_order_relaxed);
}

bool log_enabled(log_level level) noexcept {
  return level != log_level::off &&
         static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void log(log_level level, std::string_view message) {
  if (!log_enabled(level)) return;
  current()->log(to_spdlog(level), message);
}

void log_about(log_level level, const log_subject& about, std::string_view message) {
  if (!log_enabled(level)) return;
  if (g_fields.load(std::memory_order_relaxed)) {
    // The JSON sink writes on this thread, within this call.
    tl_subject = &about;
    current()->log(to_spdlog(level), message);
    tl_subject = nullptr;
    return;
  }
  current()->log(to_spdlog(level), with_prefix(about, message));
}

void log_progress(const log_subject& about, std::string_view text) {
  if (!log_enabled(log_level::info)) return;
  if (auto t = terminal()) t->progress(with_prefix(about, text));
}

void log_progress_done() {
  if (auto t = terminal()) t->progress_done();
}

bool log_progress_shown() noexcept {
  std::lock_guard lock(g_mx);
  return g_terminal && log_enabled(log_level::info);
}

}  // namespace kactor
