// Unit tests of the exactly_once write path: txn_buffer, and task_store in
// transactional mode (reads see open over sealed over the DB; the DB gets
// only the writes whose transaction committed).
#include "state/txn_buffer.hpp"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "tests/temp_dir.hpp"

#include "state/task_store.hpp"

using namespace kactor::detail;

namespace {

using kactor::test::temp_dir;

class transactional_store : public testing::Test {
 protected:
  transactional_store() {
    store = std::make_unique<task_store>("s", rocks_store::open(dir.path + "/db", memory), true);
    store->bind([](std::string_view, std::string_view) {});
  }

  /// Everything the store shows, by `range`.
  std::map<std::string, std::string> all() {
    std::map<std::string, std::string> out;
    store->range("", "", [&](std::string_view k, std::string_view v) {
      out.emplace(k, v);
      return true;
    });
    return out;
  }

  /// What the DB itself holds (committed state only).
  std::map<std::string, std::string> committed() {
    std::map<std::string, std::string> out;
    store->db().range("", "", [&](std::string_view k, std::string_view v) {
      out.emplace(k, v);
      return true;
    });
    return out;
  }

  temp_dir dir;
  store_memory memory{8 << 20};
  std::unique_ptr<task_store> store;
};

using entries = std::map<std::string, std::string>;

TEST(txn_buffer, lookup_sees_open_writes_over_sealed_ones_and_deletes_as_deletes) {
  txn_buffer b;
  EXPECT_FALSE(b.lookup("k")) << "nothing buffered: read the DB";
  b.put("k", "1");
  b.put("gone", "x");
  b.seal();
  ASSERT_TRUE(b.lookup("k"));
  EXPECT_EQ(b.lookup("k")->value, "1") << "sealed writes are still read";
  b.put("k", "2");
  b.del("gone");
  EXPECT_EQ(b.lookup("k")->value, "2") << "the open write is newer";
  ASSERT_TRUE(b.lookup("gone"));
  EXPECT_TRUE(b.lookup("gone")->deleted) << "a delete hides the sealed value and the DB's";
  EXPECT_EQ(b.sealed_batch()->Count(), 2u);
}

TEST(txn_buffer, seal_refuses_to_drop_sealed_writes_not_yet_applied) {
  txn_buffer b;
  b.put("a", "1");
  b.seal();
  b.put("b", "2");
  EXPECT_THROW(b.seal(), std::logic_error);
  b.drop_sealed();
  EXPECT_NO_THROW(b.seal());
  EXPECT_EQ(b.lookup("b")->value, "2");
  EXPECT_FALSE(b.lookup("a"));
}

TEST_F(transactional_store, writes_reach_the_db_only_when_their_transaction_commits) {
  store->put("a", "1");
  store->put("b", "1");
  EXPECT_EQ(store->get("a"), "1") << "the handler reads its own writes";
  EXPECT_EQ(committed(), entries{}) << "nothing committed yet";
  store->seal();
  store->put("a", "2");  // the next transaction
  store->del("b");
  EXPECT_EQ(all(), (entries{{"a", "2"}})) << "open over sealed over the DB";
  store->commit_sealed();
  EXPECT_EQ(committed(), (entries{{"a", "1"}, {"b", "1"}})) << "only the sealed writes";
  EXPECT_EQ(all(), (entries{{"a", "2"}})) << "the open ones still show";
}

TEST_F(transactional_store, an_abort_rolls_the_store_back_to_its_committed_state) {
  store->put("a", "1");
  store->seal();
  store->commit_sealed();
  store->put("a", "2");
  store->put("c", "3");
  store->seal();
  store->put("d", "4");
  store->roll_back(false);  // the sealed transaction aborted
  EXPECT_EQ(all(), (entries{{"a", "1"}}));
  EXPECT_EQ(store->get("c"), std::nullopt);
  EXPECT_EQ(committed(), (entries{{"a", "1"}}));
}

TEST_F(transactional_store, a_rewind_after_a_commit_that_landed_keeps_its_writes) {
  store->put("a", "1");
  store->seal();
  store->put("b", "2");    // after the barrier: never committed
  store->roll_back(true);  // the commit landed (its outcome came late)
  EXPECT_EQ(committed(), (entries{{"a", "1"}}));
  EXPECT_EQ(all(), (entries{{"a", "1"}}));
}

TEST_F(transactional_store, range_merges_the_buffers_in_key_order_within_bounds) {
  store->put("k1", "db");
  store->put("k3", "db");
  store->put("k5", "db");
  store->seal();
  store->commit_sealed();
  store->put("k2", "sealed");
  store->del("k3");
  store->seal();
  store->put("k4", "open");
  store->put("k5", "open");
  std::map<std::string, std::string> seen;
  store->range("k2", "k5", [&](std::string_view k, std::string_view v) {
    seen.emplace(k, v);
    return true;
  });
  EXPECT_EQ(seen, (entries{{"k2", "sealed"}, {"k4", "open"}}));
  EXPECT_EQ(all(), (entries{{"k1", "db"}, {"k2", "sealed"}, {"k4", "open"}, {"k5", "open"}}));
}

}  // namespace
