#include "actors/deferred_outputs.hpp"

#include <deque>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using kactor::headers;
using kactor::partition_id;
using kactor::detail::deferred_outputs;
using kactor::detail::delivery_tracker;

namespace {

/// What one kept output reads as, copied out of the buffer.
struct seen {
  std::string topic;
  int partition;
  std::string key;
  std::string value;
  headers hdrs;
  delivery_tracker::entry* token;

  bool operator==(const seen& o) const {
    auto same_headers = [](const headers& a, const headers& b) {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].key != b[i].key || a[i].value != b[i].value) return false;
      return true;
    };
    return topic == o.topic && partition == o.partition && key == o.key && value == o.value &&
           same_headers(hdrs, o.hdrs) && token == o.token;
  }
};

std::vector<seen> read(const deferred_outputs& d) {
  std::vector<seen> out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const auto o = d[i];
    out.push_back({std::string(o.topic), o.partition.value(), std::string(o.key),
                   std::string(o.value), o.hdrs, o.token});
  }
  return out;
}

/// Records' delivery entries, told apart by their offsets.
delivery_tracker::entry* token(std::int64_t n) {
  static std::deque<delivery_tracker::entry> entries;
  for (auto& e : entries)
    if (e.source.value() == n) return &e;
  return &entries.emplace_back(nullptr, 0, kactor::offset{n});
}

TEST(deferred_outputs, gives_back_every_output_in_emit_order) {
  deferred_outputs d;
  const headers trace{{"trace", "t-1"}, {"empty", ""}};
  std::string value(1000, 'v');  // longer than any small-string buffer
  d.add("out-a", partition_id{-1}, "k1", value, {}, token(1));
  d.add("out-a", partition_id{3}, "k2", "", trace, token(2));
  d.add("out-b", partition_id{-1}, "", "v3", {}, nullptr);
  d.add("out-a", partition_id{0}, "k4", "v4", {}, token(4));
  value.assign("changed");  // the kept output is a copy
  const std::vector<seen> expected{{"out-a", -1, "k1", std::string(1000, 'v'), {}, token(1)},
                                   {"out-a", 3, "k2", "", trace, token(2)},
                                   {"out-b", -1, "", "v3", {}, nullptr},
                                   {"out-a", 0, "k4", "v4", {}, token(4)}};
  EXPECT_EQ(read(d), expected);
}

TEST(deferred_outputs, keeps_a_tombstone_apart_from_an_empty_value) {
  deferred_outputs d;
  d.add("changelog", partition_id{0}, "gone", std::string_view{}, {}, nullptr);
  d.add("changelog", partition_id{0}, "empty", std::string_view("", 0), {}, nullptr);
  EXPECT_EQ(d[0].value.data(), nullptr) << "a delete stays a delete (compaction drops the key)";
  ASSERT_NE(d[1].value.data(), nullptr) << "an empty value is a value";
  EXPECT_TRUE(d[1].value.empty());
}

TEST(deferred_outputs, counts_the_bytes_it_keeps) {
  deferred_outputs d;
  EXPECT_EQ(d.bytes(), 0u);
  d.add("out", partition_id{-1}, "k", "12345", {}, nullptr);
  EXPECT_EQ(d.bytes(), deferred_outputs::entry_bytes + 3 + 1 + 5);
  d.add("out", partition_id{-1}, "k", "12345", {}, nullptr);
  EXPECT_EQ(d.bytes(), 2 * deferred_outputs::entry_bytes + 3 + 2 * (1 + 5))
      << "a run of outputs to one topic keeps its name once";
  d.add("x", partition_id{-1}, "", "", {{"h", "vv"}}, nullptr);
  EXPECT_EQ(d.bytes(), 3 * deferred_outputs::entry_bytes + 3 + 2 * (1 + 5) + 1 + 1 + 2);
}

TEST(deferred_outputs, is_empty_after_a_clear_and_takes_new_outputs) {
  deferred_outputs d;
  d.add("out", partition_id{1}, "k", "v", {{"h", "v"}}, token(1));
  d.clear();
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.bytes(), 0u);
  d.add("out", partition_id{2}, "k2", "v2", {}, token(2));
  EXPECT_EQ(read(d), (std::vector<seen>{{"out", 2, "k2", "v2", {}, token(2)}}))
      << "nothing of the output before the clear";
}

}  // namespace
