// Which partitions a Stable group leaves to no member: in no member's
// assignment and owned by none.

#include "src/group/stranded_partitions.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using namespace kactor;
using namespace kactor::detail;

topic_partition tp(const std::string& t, int p) {
  return {t, partition_id{p}};
}

group_members stable(std::vector<group_members::member> members) {
  return {"Stable", std::move(members)};
}

TEST(stranded_partitions, are_those_no_member_is_assigned_or_owns_in_a_stable_group) {
  const std::map<std::string, int> topics{{"in", 6}};
  // A static member restarted inside a cooperative rebalance: it was given
  // its share without 3-5, which it had revoked, and owns nothing now.
  auto g = stable({{"w0", {}, {tp("in", 0), tp("in", 1), tp("in", 2)}}, {"w1", {}, {}}});
  EXPECT_EQ(stranded_partitions(g, topics),
            (std::vector<topic_partition>{tp("in", 3), tp("in", 4), tp("in", 5)}));
  // Between the two steps of a live rebalance the revoking member still
  // owns them: its rejoin starts the rebalance that assigns them.
  g.members[0].owned = {tp("in", 0), tp("in", 1), tp("in", 2),
                        tp("in", 3), tp("in", 4), tp("in", 5)};
  EXPECT_TRUE(stranded_partitions(g, topics).empty());
  // Every partition assigned.
  g = stable({{"w0", {}, {tp("in", 0), tp("in", 1), tp("in", 2)}},
              {"w1", {}, {tp("in", 3), tp("in", 4), tp("in", 5)}}});
  EXPECT_TRUE(stranded_partitions(g, topics).empty());
  // Another subscribed topic's partitions count too.
  EXPECT_EQ(stranded_partitions(g, {{"in", 6}, {"other", 1}}),
            (std::vector<topic_partition>{tp("other", 0)}));
}

TEST(stranded_partitions, are_none_while_the_group_rebalances_or_has_no_members) {
  const std::map<std::string, int> topics{{"in", 2}};
  for (const char* state : {"PreparingRebalance", "CompletingRebalance"})
    EXPECT_TRUE(stranded_partitions({state, {{"w0", {}, {}}}}, topics).empty()) << state;
  EXPECT_TRUE(stranded_partitions({"Stable", {}}, topics).empty());
  EXPECT_TRUE(stranded_partitions({"Empty", {}}, topics).empty());
}

}  // namespace
