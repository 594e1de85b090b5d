#pragma once
// Progress of a long CLI operation (`trace`, `dlq redrive`) on the error
// stream: on a terminal one line redrawn in place, otherwise a line at
// intervals (for logs). Each says how far, how fast and how long is left.

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace kactor::detail {

class progress_reporter {
 public:
  /// `what` leads each line ("kactor trace: scanned"); `total` is the count
  /// expected (0 when unknown: no "of" and no time left). On a `terminal`
  /// the line is redrawn every 200 ms (or `every`, if shorter); otherwise a
  /// new line is written every `every`. Not thread-safe.
  progress_reporter(std::ostream& out, std::string what, std::int64_t total, bool terminal,
                    std::chrono::milliseconds every);
  /// `done` so far, and a note to append ("2 matched"); writes when due.
  void update(std::int64_t done, const std::string& note = {});
  /// On a terminal, ends the redrawn line so later output starts anew.
  void finish();

  /// "<what> <done> of <total> record(s), <rate>/s, about <s> s left[, <note>]".
  static std::string line(const std::string& what, std::int64_t done, std::int64_t total,
                          double elapsed_s, const std::string& note);

 private:
  std::ostream& out_;
  std::string what_;
  std::int64_t total_;
  bool terminal_;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point started_, last_;
  bool drawn_ = false;
};

/// Whether standard error is a terminal.
bool stderr_is_terminal();

}  // namespace kactor::detail
