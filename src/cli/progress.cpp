#include "src/cli/progress.hpp"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace kactor::detail {

progress_reporter::progress_reporter(std::ostream& out, std::string what, std::int64_t total,
                                     bool terminal, std::chrono::milliseconds every)
    : out_(out),
      what_(std::move(what)),
      total_(total),
      terminal_(terminal),
      every_(terminal ? std::min<std::chrono::milliseconds>(every, std::chrono::milliseconds(200))
                      : every),
      started_(std::chrono::steady_clock::now()),
      last_(started_) {}

std::string progress_reporter::line(const std::string& what, std::int64_t done, std::int64_t total,
                                    double elapsed_s, const std::string& note) {
  const double rate = elapsed_s > 0 ? done / elapsed_s : 0;
  std::string out = fmt::format("{} {}", what, done);
  if (total > 0) out += fmt::format(" of {}", total);
  out += fmt::format(" record(s), {:.0f}/s", rate);
  if (total > 0 && rate > 0)
    out += fmt::format(", about {:.0f} s left", std::max<std::int64_t>(total - done, 0) / rate);
  if (!note.empty()) out += ", " + note;
  return out;
}

void progress_reporter::update(std::int64_t done, const std::string& note) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < every_) return;
  last_ = now;
  const auto text =
      line(what_, done, total_, std::chrono::duration<double>(now - started_).count(), note);
  if (terminal_) {
    // Back to the line's start and clear it (ANSI erase-line), then redraw.
    out_ << "\r\x1b[K" << text << std::flush;
    drawn_ = true;
  } else {
    out_ << text << "\n" << std::flush;
  }
}

void progress_reporter::finish() {
  if (drawn_) out_ << "\n" << std::flush;
  drawn_ = false;
}

bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

}  // namespace kactor::detail
