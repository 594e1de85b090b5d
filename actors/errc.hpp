#pragma once
// kactor's own codes in CAF errors (category "kactor"): what actors answer
// or exit with when the cause is kactor's, not CAF's. Registered with the
// runtime's actor system, so `actor_system::render` names them.

#include <cstdint>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace kactor {

enum class errc : std::uint8_t {
  /// The dead-letter actor could not hand a dead letter to the producer.
  /// Context: (int librdkafka error code or -1, std::string what).
  write_refused = 1,
};

/// "write_refused", ...
const char* to_string(errc e) noexcept;

/// Whether `e` carries `code` of category "kactor".
inline bool is(const caf::error& e, errc code) {
  return e.category() == caf::atom("kactor") && e.code() == static_cast<std::uint8_t>(code);
}

}  // namespace kactor

CAF_ERROR_CODE_ENUM(kactor::errc, "kactor")
