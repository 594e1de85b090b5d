#pragma once
// Named crash points for fault tests. KACTOR_FAILPOINTS="name[,name...]" in
// the environment makes the process _exit(137) when it reaches one of them —
// as SIGKILL would: no unwinding, no flush, no commit. Unset (the normal
// case) a failpoint costs one load of a bool initialised at start-up.

#include <cstdlib>
#include <string>
#include <string_view>

#include <unistd.h>

namespace kactor::detail {

inline const std::string& armed_failpoints() {
  static const std::string armed = [] {
    const char* env = std::getenv("KACTOR_FAILPOINTS");
    return env ? "," + std::string(env) + "," : std::string();
  }();
  return armed;
}

inline void failpoint(std::string_view name) {
  const auto& armed = armed_failpoints();
  if (armed.empty()) return;
  if (armed.find("," + std::string(name) + ",") != std::string::npos) _exit(137);
}

}  // namespace kactor::detail
