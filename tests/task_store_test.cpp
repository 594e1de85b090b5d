// Unit tests of task_store: changelog-first writes, unbound and failing writers, prefix scans.
#include "state/task_store.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/temp_dir.hpp"

using namespace kactor;
using namespace kactor::detail;

namespace {

using kactor::test::temp_dir;

/// One changelog record: the key and the value, none for a tombstone.
using record = std::pair<std::string, std::optional<std::string>>;

class task_store_test : public testing::Test {
 protected:
  void bind_recorder() {
    store.bind([this](std::string_view key, std::string_view value) {
      sent.emplace_back(std::string(key),
                        value.data() == nullptr ? std::nullopt : std::optional<std::string>(value));
    });
  }

  std::vector<std::string> scanned(std::string_view prefix) {
    std::vector<std::string> keys;
    store.scan(prefix, [&](std::string_view k, std::string_view) {
      keys.emplace_back(k);
      return true;
    });
    return keys;
  }

  temp_dir tmp;
  store_memory memory{0};
  task_store store{"counts", rocks_store::open(tmp.path + "/db", memory)};
  std::vector<record> sent;
};

}  // namespace

TEST_F(task_store_test, put_and_del_send_their_changelog_records_in_order) {
  bind_recorder();
  store.put("a", "1");
  store.put("b", "2");
  store.del("a");
  store.put("a", "3");
  EXPECT_EQ(sent, (std::vector<record>{{"a", "1"}, {"b", "2"}, {"a", std::nullopt}, {"a", "3"}}));
  EXPECT_EQ(store.get("a"), "3");
  EXPECT_EQ(store.get("b"), "2");
  EXPECT_EQ(store.db().get("a"), "3");
}

TEST_F(task_store_test, an_empty_value_is_a_value_not_a_tombstone) {
  bind_recorder();
  store.put("a", std::string_view{});
  store.put("b", "");
  EXPECT_EQ(sent, (std::vector<record>{{"a", ""}, {"b", ""}}));
  EXPECT_EQ(store.get("a"), "");
  EXPECT_EQ(store.get("b"), "");
}

TEST_F(task_store_test, a_throwing_writer_leaves_the_db_unchanged) {
  bind_recorder();
  store.put("a", "1");
  store.bind([](std::string_view, std::string_view) { throw std::runtime_error("refused"); });
  EXPECT_THROW(store.put("a", "2"), std::runtime_error);
  EXPECT_THROW(store.put("b", "2"), std::runtime_error);
  EXPECT_THROW(store.del("a"), std::runtime_error);
  EXPECT_EQ(store.get("a"), "1");
  EXPECT_EQ(store.get("b"), std::nullopt);
}

TEST_F(task_store_test, writes_without_a_bound_writer_throw_logic_error_and_reads_work) {
  store.db().put("a", "1");
  EXPECT_THROW(store.put("b", "2"), std::logic_error);
  EXPECT_THROW(store.del("a"), std::logic_error);
  EXPECT_EQ(store.get("a"), "1");
  EXPECT_EQ(store.get("b"), std::nullopt);
  EXPECT_EQ(store.name(), "counts");
}

TEST_F(task_store_test, range_reads_the_handlers_own_writes_at_once) {
  bind_recorder();
  store.put("k1", "a");
  store.put("k2", "b");
  store.put("k3", "c");
  std::vector<std::pair<std::string, std::string>> seen;
  store.range("k2", "", [&](std::string_view k, std::string_view v) {
    seen.emplace_back(k, v);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"k2", "b"}, {"k3", "c"}}));
}

TEST_F(task_store_test, scan_returns_exactly_the_keys_with_the_prefix_in_byte_order) {
  bind_recorder();
  const std::vector<std::string> keys = {"a",
                                         "ab",
                                         std::string("ab\0", 3),
                                         "abc",
                                         "ab\xff",
                                         "ab\xff\x01",
                                         "ac",
                                         std::string("ac\0x", 4),
                                         "b",
                                         "\xfe",
                                         "\xff",
                                         "\xff\xfe",
                                         "\xff\xff",
                                         "\xff\xff\x01",
                                         "\xff\xff\xff"};
  for (const auto& k : keys) store.put(k, "v");
  const auto byte_less = [](const std::string& x, const std::string& y) {
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end(), [](char p, char q) {
      return static_cast<unsigned char>(p) < static_cast<unsigned char>(q);
    });
  };
  for (const std::string prefix : {"", "a", "ab", "ab\xff", "abc", "b", "\xff", "\xff\xff", "z"}) {
    std::vector<std::string> expected;
    for (const auto& k : keys)
      if (k.compare(0, prefix.size(), prefix) == 0) expected.push_back(k);
    std::sort(expected.begin(), expected.end(), byte_less);
    EXPECT_EQ(scanned(prefix), expected) << "prefix of " << prefix.size() << " bytes";
  }
  EXPECT_EQ(scanned("ab\xff"), (std::vector<std::string>{"ab\xff", "ab\xff\x01"}));
  EXPECT_EQ(scanned("\xff\xff"),
            (std::vector<std::string>{"\xff\xff", "\xff\xff\x01", "\xff\xff\xff"}));
}

TEST_F(task_store_test, writes_count_as_begun_then_finished_failed_ones_too) {
  bind_recorder();
  store.put("a", "1");
  store.del("a");
  EXPECT_EQ(store.writes_begun(), 2u);
  EXPECT_EQ(store.writes(), 2u);
  store.bind([](std::string_view, std::string_view) { throw std::runtime_error("refused"); });
  EXPECT_THROW(store.put("b", "2"), std::runtime_error);
  EXPECT_EQ(store.writes_begun(), 3u);
  EXPECT_EQ(store.writes(), 3u) << "a failed write must not hold a checkpoint back";
}

// A checkpoint reads the changelog's end, then waits for the writes begun by
// then: a write whose record is sent but not yet in the DB holds it back.
TEST_F(task_store_test, await_writes_waits_for_a_write_between_its_record_and_the_db) {
  std::promise<void> sent_record, release;
  auto released = release.get_future().share();
  store.bind([&](std::string_view, std::string_view) {
    sent_record.set_value();
    released.wait();
  });
  std::thread writer([&] { store.put("a", "1"); });
  sent_record.get_future().wait();
  const auto begun = store.writes_begun();
  EXPECT_EQ(begun, 1u);
  EXPECT_FALSE(store.await_writes(begun, std::chrono::milliseconds(20)))
      << "the write's record is out but the DB does not have it yet";
  EXPECT_EQ(store.db().get("a"), std::nullopt);
  release.set_value();
  EXPECT_TRUE(store.await_writes(begun, std::chrono::seconds(60)));
  EXPECT_EQ(store.db().get("a"), "1") << "finished means in the DB";
  writer.join();
}
