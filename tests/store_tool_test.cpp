// Unit tests of `kactor store dump` (run_store_dump): stores built in a temporary state dir.
#include "src/cli/store_tool.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "tests/temp_dir.hpp"

#include "state/checkpoint.hpp"
#include "state/rocks_store.hpp"
#include "state/store_memory.hpp"

using namespace kactor::detail;
namespace fs = std::filesystem;

namespace {

using kactor::test::temp_dir;

/// Every file and directory under `dir` with its size and modification time.
std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> tree(const std::string& dir) {
  std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> out;
  for (const auto& f : fs::recursive_directory_iterator(dir))
    out[f.path().string()] = {f.is_regular_file() ? f.file_size() : 0, f.last_write_time()};
  return out;
}

/// What one run printed and returned.
struct result {
  int code;
  std::string out;
  std::string err;
};

class store_tool_test : public testing::Test {
 protected:
  std::string partition_dir(int p) const { return root() + "/" + std::to_string(p); }
  std::string root() const { return tmp.path + "/orders/counts"; }

  /// Writes `entries` to partition `p`, flushes and closes it.
  void build(int p, const std::map<std::string, std::string>& entries) {
    auto db = rocks_store::open(partition_dir(p), memory);
    for (const auto& [k, v] : entries) db->put(k, v);
    db->flush();
  }

  result run(std::optional<std::int32_t> partition = std::nullopt, bool json = false,
             std::string group = "orders", std::string store = "counts") const {
    store_dump_options o{tmp.path, std::move(group), std::move(store), partition, json};
    std::ostringstream out, err;
    const int code = run_store_dump(o, out, err);
    return {code, out.str(), err.str()};
  }

  temp_dir tmp;
  store_memory memory{0};
};

}  // namespace

TEST(escape_bytes, keeps_printable_text_and_escapes_everything_else) {
  EXPECT_EQ(escape_bytes("plain text ~"), "plain text ~");
  EXPECT_EQ(escape_bytes(std::string("a\0b\xff", 4)), "a\\x00b\\xff");
  EXPECT_EQ(escape_bytes("back\\slash\n\t\x7f"), "back\\\\slash\\x0a\\x09\\x7f");
  EXPECT_EQ(escape_bytes("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x99\x82"),
            "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x99\x82");
  // A C1 control, an overlong form, a surrogate and a truncated character.
  EXPECT_EQ(escape_bytes("\xc2\x85|\xc0\xaf|\xed\xa0\x80|\xe2\x86"),
            "\\xc2\\x85|\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x86");
}

TEST_F(store_tool_test, text_lists_every_partition_in_numeric_order_with_keys_in_byte_order) {
  build(10, {{"z", "last"}});
  build(2, {{"b", "2"}, {"a", "1"}, {std::string("k\0\xff", 3), "binary key"}});
  write_checkpoint(partition_dir(2) + ".checkpoint", 41);
  std::ofstream(root() + "/10.checkpoint") << "torn";
  fs::create_directories(root() + "/not-a-partition");
  std::ofstream(root() + "/7") << "a file, not a partition directory";
  const auto r = run();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(
      r.out,
      "counts partition 2: 3 key(s), checkpoint 41\n"
      "a \u2192 1\n"
      "b \u2192 2\n"
      "k\\x00\\xff \u2192 binary key\n"
      "counts partition 10: 1 key(s), checkpoint none (torn or corrupt (not three whole lines))\n"
      "z \u2192 last\n");
}

TEST_F(store_tool_test, text_cuts_a_long_value_and_says_its_size) {
  build(0, {{"long", std::string(199, 'x') + "\xc3\xa9" + std::string(799, 'y')},
            {"exact", std::string(200, 'e')}});
  const auto r = run(0);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "counts partition 0: 2 key(s), checkpoint none (absent)\n"
            "exact \u2192 " +
                std::string(200, 'e') +
                "\n"
                "long \u2192 " +
                std::string(199, 'x') + "...(1000 bytes)\n");
}

TEST_F(store_tool_test, json_is_one_valid_document_with_whole_escaped_values) {
  build(1, {{std::string("\0key\xff", 5), std::string(300, 'v')}, {"caf\xc3\xa9", "\\"}});
  write_checkpoint(partition_dir(1) + ".checkpoint", 7);
  build(3, {});
  const auto r = run(std::nullopt, true);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  const auto expected = nlohmann::json::parse(R"({"group": "orders", "store": "counts",
      "partitions": [
        {"partition": 1, "checkpoint": 7, "keys": [
          {"key": "\\x00key\\xff", "value": ")" +
                                              std::string(300, 'v') + R"("},
          {"key": "café", "value": "\\\\"}]},
        {"partition": 3, "checkpoint": null, "checkpoint_problem": "absent", "keys": []}]})");
  EXPECT_EQ(doc, expected) << r.out;
}

TEST_F(store_tool_test, dumps_while_a_writer_holds_the_store_showing_what_is_flushed) {
  auto writer = rocks_store::open(partition_dir(0), memory);
  writer->put("flushed", "yes");
  writer->flush();
  write_checkpoint(partition_dir(0) + ".checkpoint", 12);
  writer->put("in-memtable", "not yet");
  const auto r = run(0);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "counts partition 0: 1 key(s), checkpoint 12\nflushed \u2192 yes\n");
  writer->put("after", "the dump");
  EXPECT_EQ(writer->get("flushed"), "yes");
}

TEST_F(store_tool_test, a_store_without_partitions_says_so) {
  fs::create_directories(root());
  const auto text = run();
  EXPECT_EQ(text.code, 0);
  EXPECT_EQ(text.out, "counts: no partitions in " + root() + "\n");
  const auto json = run(std::nullopt, true);
  EXPECT_EQ(json.code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out)["partitions"], nlohmann::json::array());
}

TEST_F(store_tool_test, a_missing_path_is_a_usage_error_naming_it) {
  build(0, {{"k", "v"}});
  const auto expect_missing = [](const result& r, const std::string& message) {
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "kactor: " + message + "\nRun with --help for more information.\n");
  };
  expect_missing(run(std::nullopt, false, "nope"),
                 "group nope: " + tmp.path + "/nope does not exist");
  expect_missing(run(std::nullopt, false, "orders", "nope"),
                 "store nope: " + tmp.path + "/orders/nope does not exist");
  expect_missing(run(5), "partition 5: " + root() + "/5 does not exist");
  std::ofstream(root() + "/6") << "a file";
  expect_missing(run(6), "partition 6: " + root() + "/6 is not a directory");
  store_dump_options o{tmp.path + "/absent", "orders", "counts", std::nullopt, false};
  std::ostringstream out, err;
  EXPECT_EQ(run_store_dump(o, out, err), 2);
  EXPECT_EQ(err.str(), "kactor: state dir " + tmp.path +
                           "/absent does not exist\nRun with --help for more information.\n");
  EXPECT_FALSE(fs::exists(tmp.path + "/absent"));
}

TEST_F(store_tool_test, a_db_that_cannot_be_opened_fails_with_rocksdbs_reason) {
  build(0, {{"k", "v"}});
  std::ofstream(partition_dir(0) + "/CURRENT", std::ios::trunc) << "garbage\n";
  for (bool json : {false, true}) {
    const auto r = run(std::nullopt, json);
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(
        r.err.rfind("kactor: state store " + partition_dir(0) + ": cannot open for reading: ", 0),
        0u)
        << r.err;
  }
  fs::create_directories(partition_dir(1));  // empty: no DB in it
  const auto r = run(1);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(partition_dir(1)), std::string::npos) << r.err;
}

TEST_F(store_tool_test, a_dump_creates_and_changes_nothing_under_the_state_dir) {
  build(0, {{"a", "1"}});
  write_checkpoint(partition_dir(0) + ".checkpoint", 3);
  build(1, {{"b", "2"}});
  auto writer = rocks_store::open(partition_dir(1), memory);
  writer->put("c", "3");
  const auto before = tree(tmp.path);
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(run().code, 0);
  EXPECT_EQ(run(1, true).code, 0);
  EXPECT_EQ(run(std::nullopt, false, "orders", "nope").code, 2);
  EXPECT_EQ(tree(tmp.path), before);
}
