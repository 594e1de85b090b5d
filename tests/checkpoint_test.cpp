// Unit tests of the checkpoint file: round trips, atomic replacement and damage detection.
#include "state/checkpoint.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "tests/temp_dir.hpp"

#include <kactor/error.hpp>

using namespace kactor;
using namespace kactor::detail;
namespace fs = std::filesystem;

namespace {

using kactor::test::temp_dir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class checkpoint_test : public testing::Test {
 protected:
  temp_dir tmp;
  std::string path = tmp.path + "/checkpoint";
};

}  // namespace

TEST_F(checkpoint_test, write_then_read_gives_the_offset_back) {
  for (std::int64_t offset : {std::int64_t{0}, std::int64_t{120}, std::int64_t{1} << 40,
                              std::numeric_limits<std::int64_t>::max()}) {
    write_checkpoint(path, offset);
    const auto r = read_checkpoint(path);
    EXPECT_EQ(r.offset, offset);
    EXPECT_EQ(r.problem, "");
  }
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(checkpoint_test, overwrite_keeps_the_newest) {
  write_checkpoint(path, 100);
  write_checkpoint(path, 250);
  write_checkpoint(path, 7);
  EXPECT_EQ(read_checkpoint(path).offset, 7);
}

TEST_F(checkpoint_test, a_missing_file_is_absent) {
  const auto r = read_checkpoint(path);
  EXPECT_EQ(r.offset, std::nullopt);
  EXPECT_EQ(r.problem, "absent");
}

TEST_F(checkpoint_test, a_file_torn_in_half_gives_no_offset_and_says_why) {
  write_checkpoint(path, 123456789);
  fs::resize_file(path, fs::file_size(path) / 2);
  const auto r = read_checkpoint(path);
  EXPECT_EQ(r.offset, std::nullopt);
  EXPECT_NE(r.problem, "");
  EXPECT_NE(r.problem, "absent");
}

TEST_F(checkpoint_test, every_truncation_is_detected) {
  write_checkpoint(path, 987654321);
  const std::string whole = slurp(path);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    spit(path, whole.substr(0, n));
    const auto r = read_checkpoint(path);
    EXPECT_EQ(r.offset, std::nullopt) << "truncated to " << n << " bytes";
    EXPECT_NE(r.problem, "") << "truncated to " << n << " bytes";
  }
}

TEST_F(checkpoint_test, an_edited_offset_fails_the_checksum) {
  write_checkpoint(path, 120);
  std::string text = slurp(path);
  const auto at = text.find("\n120\n");
  ASSERT_NE(at, std::string::npos);
  text[at + 1] = '9';
  spit(path, text);
  const auto r = read_checkpoint(path);
  EXPECT_EQ(r.offset, std::nullopt);
  EXPECT_NE(r.problem.find("checksum"), std::string::npos) << r.problem;
}

TEST_F(checkpoint_test, a_file_of_another_format_gives_no_offset) {
  spit(path, "120\n");
  EXPECT_EQ(read_checkpoint(path).offset, std::nullopt);
  spit(path, "kactor-checkpoint 1\n120\n\n");
  EXPECT_EQ(read_checkpoint(path).offset, std::nullopt);
  spit(path, std::string(100000, 'x'));
  EXPECT_EQ(read_checkpoint(path).offset, std::nullopt);
}

TEST_F(checkpoint_test, a_leftover_tmp_file_from_a_crash_keeps_the_old_checkpoint) {
  write_checkpoint(path, 42);
  spit(path + ".tmp", "kactor-checkpoint 1\n9");
  EXPECT_EQ(read_checkpoint(path).offset, 42);
  write_checkpoint(path, 43);
  EXPECT_EQ(read_checkpoint(path).offset, 43);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(checkpoint_test, remove_then_read_is_absent_and_removing_twice_is_fine) {
  write_checkpoint(path, 5);
  remove_checkpoint(path);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(read_checkpoint(path).problem, "absent");
  EXPECT_NO_THROW(remove_checkpoint(path));
}

TEST_F(checkpoint_test, writing_into_a_missing_directory_throws_store_error_naming_the_path) {
  const std::string bad = tmp.path + "/missing/checkpoint";
  try {
    write_checkpoint(bad, 1);
    FAIL() << "write_checkpoint into a missing directory succeeded";
  } catch (const store_error& e) {
    EXPECT_EQ(e.path(), bad);
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos)
        << e.what();
  }
}
