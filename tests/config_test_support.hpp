#pragma once
// What the configuration tests share: expecting a config_error that names
// its key.

#include <initializer_list>
#include <string>

#include <gtest/gtest.h>
#include <kactor/config.hpp>

namespace kactor::test {

// Runs `f`, expecting a config_error for `key` whose message contains every fragment.
template <class F>
void expect_error(F&& f, const std::string& key, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "no config_error; expected one for " << key;
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.key(), key) << what;
    for (const auto& fragment : fragments)
      EXPECT_NE(what.find(fragment), std::string::npos) << "'" << fragment << "' not in: " << what;
  }
}

}  // namespace kactor::test
