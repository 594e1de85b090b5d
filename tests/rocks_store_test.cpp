// Unit tests of rocks_store and store_memory: one RocksDB instance in a temporary directory.
#include "state/rocks_store.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/temp_dir.hpp"

using namespace kactor;
using namespace kactor::detail;
namespace fs = std::filesystem;

namespace {

using kactor::test::temp_dir;

using entries = std::vector<std::pair<std::string, std::string>>;

entries collect(const rocks_store& db, std::string_view from, std::string_view to,
                std::size_t limit = SIZE_MAX) {
  entries out;
  db.range(from, to, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return out.size() < limit;
  });
  return out;
}

rocks_store::open_failure open_failure_of(const std::string& dir, const store_memory& memory) {
  try {
    rocks_store::open(dir, memory);
  } catch (const rocks_store::open_error& e) {
    EXPECT_EQ(e.path(), dir);
    return e.why();
  }
  ADD_FAILURE() << "open of " << dir << " succeeded";
  return rocks_store::open_failure::broken;
}

class rocks_store_test : public testing::Test {
 protected:
  temp_dir tmp;
  store_memory memory{0};
  /// Missing parents, and a name containing "lock": an I/O error naming the
  /// path is not taken for a held LOCK.
  std::string dir = tmp.sub("blocklist/store");
};

}  // namespace

TEST(store_memory, clamps_to_8_mib_and_gives_half_to_memtables_charged_to_the_cache) {
  store_memory small(1);
  EXPECT_EQ(small.bytes(), std::size_t{8} << 20);
  EXPECT_EQ(small.cache()->GetCapacity(), std::size_t{8} << 20);
  store_memory big(std::size_t{64} << 20);
  EXPECT_EQ(big.cache()->GetCapacity(), std::size_t{64} << 20);
  EXPECT_EQ(big.write_buffers()->buffer_size(), std::size_t{32} << 20);
  EXPECT_TRUE(big.write_buffers()->cost_to_cache());
}

TEST_F(rocks_store_test, memtables_are_charged_to_the_shared_cache) {
  auto db = rocks_store::open(dir, memory);
  for (int i = 0; i < 1000; ++i) db->put("key" + std::to_string(i), std::string(100, 'v'));
  EXPECT_GT(memory.write_buffers()->memory_usage(), 0u);
  EXPECT_GT(memory.cache()->GetUsage(), 0u);
}

TEST_F(rocks_store_test, open_creates_missing_parents_and_round_trips_put_get_del) {
  auto db = rocks_store::open(dir, memory);
  EXPECT_EQ(db->dir(), dir);
  EXPECT_TRUE(fs::is_directory(dir));
  const std::string binary_key("k\0ey", 4), binary_value("v\0\xff", 3);
  db->put("a", "1");
  db->put(binary_key, binary_value);
  EXPECT_EQ(db->get("a"), "1");
  EXPECT_EQ(db->get(binary_key), binary_value);
  EXPECT_EQ(db->get("k"), std::nullopt);
  db->put("a", "2");
  EXPECT_EQ(db->get("a"), "2");
  db->del("a");
  EXPECT_EQ(db->get("a"), std::nullopt);
  db->del("never-there");
  EXPECT_EQ(db->get(binary_key), binary_value);
}

TEST_F(rocks_store_test, range_visits_from_inclusive_to_exclusive_in_byte_order) {
  auto db = rocks_store::open(dir, memory);
  for (const char* k : {"d", "a", "c", "b", "\xff", "b\x01"}) db->put(k, std::string("v") + k);
  EXPECT_EQ(collect(*db, "b", "d"), (entries{{"b", "vb"}, {"b\x01", "vb\x01"}, {"c", "vc"}}));
  EXPECT_EQ(
      collect(*db, "b", ""),
      (entries{{"b", "vb"}, {"b\x01", "vb\x01"}, {"c", "vc"}, {"d", "vd"}, {"\xff", "v\xff"}}));
  EXPECT_EQ(collect(*db, "bb", "c"), entries{});
  EXPECT_EQ(collect(*db, "", "b").size(), 1u);
  EXPECT_EQ(collect(*db, "a", "", 2), (entries{{"a", "va"}, {"b", "vb"}}));
}

TEST_F(rocks_store_test, values_survive_close_and_reopen_after_flush) {
  {
    auto db = rocks_store::open(dir, memory);
    db->put("kept", "yes");
    db->put("gone", "no");
    db->del("gone");
    db->flush();
  }
  auto db = rocks_store::open(dir, memory);
  EXPECT_EQ(db->get("kept"), "yes");
  EXPECT_EQ(db->get("gone"), std::nullopt);
}

TEST_F(rocks_store_test, second_open_while_the_first_is_open_is_locked) {
  auto first = rocks_store::open(dir, memory);
  EXPECT_EQ(open_failure_of(dir, memory), rocks_store::open_failure::locked);
  first->put("still", "usable");
  EXPECT_EQ(first->get("still"), "usable");
}

TEST_F(rocks_store_test, open_while_another_process_holds_the_lock_is_locked) {
  fs::create_directories(dir);
  const std::string lock = dir + "/LOCK";
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child holds the LOCK as RocksDB's fcntl lock would, using only
    // async-signal-safe calls, until the parent is done.
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT, 0644);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    const char ok = fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0 ? '1' : '0';
    [[maybe_unused]] ssize_t wrote = ::write(ready[1], &ok, 1);
    char c;
    [[maybe_unused]] ssize_t got = ::read(done[0], &c, 1);
    ::_exit(0);
  }
  char ok = '0';
  EXPECT_EQ(::read(ready[0], &ok, 1), 1);
  EXPECT_EQ(ok, '1');
  if (ok == '1') EXPECT_EQ(open_failure_of(dir, memory), rocks_store::open_failure::locked);
  EXPECT_EQ(::write(done[1], "x", 1), 1);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
  auto db = rocks_store::open(dir, memory);
  EXPECT_EQ(db->get("x"), std::nullopt);
}

TEST_F(rocks_store_test, garbage_current_is_broken_and_wipe_recovers) {
  {
    auto db = rocks_store::open(dir, memory);
    db->put("a", "1");
    db->flush();
  }
  std::ofstream(dir + "/CURRENT", std::ios::trunc) << "garbage\n";
  EXPECT_EQ(open_failure_of(dir, memory), rocks_store::open_failure::broken);
  rocks_store::wipe(dir);
  auto db = rocks_store::open(dir, memory);
  EXPECT_EQ(db->get("a"), std::nullopt);
}

TEST_F(rocks_store_test, current_naming_a_missing_manifest_is_broken) {
  {
    auto db = rocks_store::open(dir, memory);
    db->put("a", "1");
  }
  // An I/O error (file not found) whose message holds the directory's name.
  std::ofstream(dir + "/CURRENT", std::ios::trunc) << "MANIFEST-999999\n";
  EXPECT_EQ(open_failure_of(dir, memory), rocks_store::open_failure::broken);
}

TEST_F(rocks_store_test, garbage_manifest_is_broken) {
  {
    auto db = rocks_store::open(dir, memory);
    db->put("a", "1");
    db->flush();
  }
  int manifests = 0;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().filename().string().rfind("MANIFEST-", 0) != 0) continue;
    std::ofstream(f.path(), std::ios::trunc) << "not a manifest at all, just some garbage bytes";
    ++manifests;
  }
  ASSERT_GT(manifests, 0);
  EXPECT_EQ(open_failure_of(dir, memory), rocks_store::open_failure::broken);
}

TEST_F(rocks_store_test, wipe_removes_everything_and_a_reopen_is_empty) {
  {
    auto db = rocks_store::open(dir, memory);
    db->put("a", "1");
    db->flush();
  }
  std::ofstream(dir + "/checkpoint") << "something else in the directory";
  rocks_store::wipe(dir);
  EXPECT_FALSE(fs::exists(dir));
  auto db = rocks_store::open(dir, memory);
  EXPECT_EQ(db->get("a"), std::nullopt);
  EXPECT_EQ(collect(*db, "", ""), entries{});
}

TEST_F(rocks_store_test, wipe_of_an_absent_directory_is_a_no_op) {
  EXPECT_NO_THROW(rocks_store::wipe(tmp.sub("absent/deeper")));
  EXPECT_TRUE(fs::exists(tmp.path));
}

TEST_F(rocks_store_test, wipe_of_an_open_store_throws_and_leaves_it_intact) {
  auto db = rocks_store::open(dir, memory);
  db->put("a", "1");
  db->flush();
  EXPECT_THROW(rocks_store::wipe(dir), store_error);
  EXPECT_EQ(db->get("a"), "1");
}

TEST_F(rocks_store_test, write_applies_a_batch_of_puts_and_deletes) {
  auto db = rocks_store::open(dir, memory);
  db->put("x", "old");
  db->put("y", "old");
  rocksdb::WriteBatch batch;
  batch.Put("a", "1");
  batch.Put("b", "2");
  batch.Delete("x");
  batch.Put("y", "new");
  db->write(batch);
  EXPECT_EQ(collect(*db, "", ""), (entries{{"a", "1"}, {"b", "2"}, {"y", "new"}}));
}

namespace {

/// Every file under `dir` with its size and modification time.
std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> tree(const std::string& dir) {
  std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> out;
  for (const auto& f : fs::recursive_directory_iterator(dir))
    out[f.path().string()] = {f.is_regular_file() ? f.file_size() : 0, f.last_write_time()};
  return out;
}

/// Points TMPDIR (where `open_read_only` puts its secondary directory) at a
/// fresh directory while it lives.
struct scoped_tmpdir {
  explicit scoped_tmpdir(std::string dir) : path(std::move(dir)) {
    fs::create_directories(path);
    if (const char* old = std::getenv("TMPDIR")) saved = old;
    ::setenv("TMPDIR", path.c_str(), 1);
  }
  ~scoped_tmpdir() {
    if (saved)
      ::setenv("TMPDIR", saved->c_str(), 1);
    else
      ::unsetenv("TMPDIR");
  }
  bool empty() const { return fs::is_empty(path); }
  std::string path;
  std::optional<std::string> saved;
};

}  // namespace

TEST_F(rocks_store_test, open_read_only_sees_flushed_writes_while_a_writer_holds_the_db) {
  auto writer = rocks_store::open(dir, memory);
  writer->put("b", "2");
  writer->put("a", "1");
  writer->flush();
  writer->put("c", "only in the memtable");
  {
    auto reader = rocks_store::open_read_only(dir, memory);
    EXPECT_EQ(reader->dir(), dir);
    EXPECT_EQ(collect(*reader, "", ""), (entries{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(reader->get("c"), std::nullopt);
  }
  writer->put("d", "4");
  writer->flush();
  EXPECT_EQ(writer->get("c"), "only in the memtable");
  auto reader = rocks_store::open_read_only(dir, memory);
  EXPECT_EQ(collect(*reader, "", ""),
            (entries{{"a", "1"}, {"b", "2"}, {"c", "only in the memtable"}, {"d", "4"}}));
}

TEST_F(rocks_store_test, open_read_only_of_a_closed_store_reads_it_and_changes_nothing) {
  {
    auto db = rocks_store::open(dir, memory);
    db->put("k", "v");
  }  // a clean close flushes
  const auto before = tree(dir);
  scoped_tmpdir tmpdir(tmp.sub("tmp"));
  {
    auto reader = rocks_store::open_read_only(dir, memory);
    EXPECT_EQ(reader->get("k"), "v");
    EXPECT_FALSE(tmpdir.empty());
  }
  EXPECT_TRUE(tmpdir.empty());
  EXPECT_EQ(tree(dir), before);
  auto writer = rocks_store::open(dir, memory);  // no LOCK left behind
  EXPECT_EQ(writer->get("k"), "v");
}

TEST_F(rocks_store_test, open_read_only_refuses_writes) {
  { rocks_store::open(dir, memory)->put("k", "v"); }
  auto reader = rocks_store::open_read_only(dir, memory);
  EXPECT_THROW(reader->put("k", "w"), store_error);
  EXPECT_THROW(reader->del("k"), store_error);
  rocksdb::WriteBatch batch;
  batch.Put("x", "y");
  EXPECT_THROW(reader->write(batch), store_error);
  EXPECT_THROW(reader->flush(), store_error);
  EXPECT_EQ(reader->get("k"), "v");
}

TEST_F(rocks_store_test, open_read_only_of_a_missing_dir_throws_and_creates_nothing) {
  scoped_tmpdir tmpdir(tmp.sub("tmp"));
  try {
    rocks_store::open_read_only(dir, memory);
    ADD_FAILURE() << "open_read_only of a missing directory succeeded";
  } catch (const store_error& e) {
    EXPECT_EQ(e.path(), dir);
    EXPECT_NE(std::string(e.what()).find("cannot open for reading"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(tmpdir.empty());
}
