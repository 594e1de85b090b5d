// Unit tests of batch_writer: a restore's WriteBatches written on a thread of
// their own, in order, with a write's failure reaching the submitter.

#include "state/batch_writer.hpp"

#include <atomic>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <kactor/error.hpp>

#include "state/store_memory.hpp"
#include "tests/temp_dir.hpp"

namespace {

using kactor::detail::batch_writer;
using kactor::detail::rocks_store;
using kactor::detail::store_memory;
using kactor::test::temp_dir;

TEST(batch_writer, writes_every_batch_in_the_order_submitted) {
  temp_dir tmp;
  store_memory memory{0};
  auto db = rocks_store::open(tmp.path + "/db", memory);
  std::atomic<std::uint64_t> written{0};
  {
    batch_writer writer(*db, [&](std::uint64_t n) { written += n; });
    rocksdb::WriteBatch batch;
    // 50 batches of 100 writes; later batches overwrite and delete earlier keys.
    for (int b = 0; b < 50; ++b) {
      for (int i = 0; i < 100; ++i) batch.Put("k" + std::to_string(i), std::to_string(b));
      if (b == 49) batch.Delete("k0");
      writer.submit(batch);
      EXPECT_EQ(batch.Count(), 0u) << "submit leaves the batch empty for the next one";
    }
    writer.finish();
    EXPECT_EQ(written.load(), 50u * 100u + 1u) << "finish returns once every batch is written";
  }
  EXPECT_EQ(db->get("k1"), "49");
  EXPECT_EQ(db->get("k99"), "49");
  EXPECT_EQ(db->get("k0"), std::nullopt);
}

TEST(batch_writer, a_failed_write_reaches_the_submitter) {
  temp_dir tmp;
  store_memory memory{0};
  const auto dir = tmp.path + "/db";
  rocks_store::open(dir, memory)->put("a", "1");
  // A secondary instance refuses writes with store_error.
  auto read_only = rocks_store::open_read_only(dir, memory);
  batch_writer writer(*read_only, [](std::uint64_t) {});
  rocksdb::WriteBatch batch;
  batch.Put("b", "2");
  writer.submit(batch);
  EXPECT_THROW(writer.finish(), kactor::store_error);
  batch.Put("c", "3");
  EXPECT_THROW(writer.submit(batch), kactor::store_error) << "and to every later submit";
}

}  // namespace
