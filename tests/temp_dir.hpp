#pragma once
// A fresh directory for one test, removed with everything in it. Header-only,
// for tests that link no test helpers (the state/ tests).

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace kactor::test {

struct temp_dir {
  /// `<gtest temp dir>/kactor_<name>_XXXXXX`.
  explicit temp_dir(const std::string& name = "test") {
    std::string tmpl = testing::TempDir() + "kactor_" + name + "_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  /// `path/name`.
  std::string sub(const std::string& name) const { return path + "/" + name; }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string path;
};

}  // namespace kactor::test
