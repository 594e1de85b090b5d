// The config's keys against the README's configuration table: every key
// `config_keys()` lists (the fields table in src/config.cpp) is documented,
// once, and the table documents no other.

#include <kactor/config.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace kactor {
namespace {

using strings = std::vector<std::string>;

// The README's configuration table: the first cell of each row, one key per row.
strings readme_keys() {
  std::ifstream in(KACTOR_SOURCE_DIR "/README.md");
  strings out;
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| key | default | meaning |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table || line.rfind("|---", 0) == 0) continue;
    if (line.rfind("| `", 0) != 0) break;  // the table ends
    const auto end = line.find('`', 3);
    out.push_back(line.substr(3, end - 3));
  }
  return out;
}

TEST(config, the_readme_lists_every_key_once_and_no_other) {
  auto documented = readme_keys();
  auto accepted = config_keys();
  ASSERT_FALSE(documented.empty()) << "no configuration table in the README";
  std::sort(documented.begin(), documented.end());
  std::sort(accepted.begin(), accepted.end());
  EXPECT_EQ(std::adjacent_find(documented.begin(), documented.end()), documented.end())
      << "a key listed twice";
  EXPECT_EQ(documented, accepted);
}

}  // namespace
}  // namespace kactor
