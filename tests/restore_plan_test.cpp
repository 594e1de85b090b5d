// Unit tests of plan_restore: every row of the decision table and its edges.
#include "state/restore_plan.hpp"

#include <string>

#include <gtest/gtest.h>

using namespace kactor::detail;

namespace {

restore_inputs inputs(std::optional<std::int64_t> checkpoint, std::int64_t log_start,
                      std::int64_t log_end) {
  restore_inputs in;
  in.checkpoint = checkpoint;
  in.checkpoint_problem = checkpoint ? "" : "absent";
  in.log_start = log_start;
  in.log_end = log_end;
  return in;
}

bool says(const restore_plan& p, const std::string& text) {
  return p.why.find(text) != std::string::npos;
}

}  // namespace

TEST(restore_plan, a_checkpoint_inside_the_changelog_resumes_from_it) {
  const auto p = plan_restore(inputs(120, 0, 400));
  EXPECT_FALSE(p.wipe);
  EXPECT_EQ(p.from, 120);
  EXPECT_TRUE(says(p, "resuming from checkpoint 120")) << p.why;
  EXPECT_TRUE(says(p, "0..400")) << p.why;
}

TEST(restore_plan, a_checkpoint_at_the_changelog_end_resumes_with_nothing_to_read) {
  const auto p = plan_restore(inputs(400, 10, 400));
  EXPECT_FALSE(p.wipe);
  EXPECT_EQ(p.from, 400);
}

TEST(restore_plan, a_checkpoint_at_the_changelog_start_resumes_without_wiping) {
  const auto p = plan_restore(inputs(10, 10, 400));
  EXPECT_FALSE(p.wipe);
  EXPECT_EQ(p.from, 10);
}

TEST(restore_plan, an_empty_changelog_and_a_checkpoint_at_its_end_resume) {
  const auto p = plan_restore(inputs(0, 0, 0));
  EXPECT_FALSE(p.wipe);
  EXPECT_EQ(p.from, 0);
}

TEST(restore_plan, a_store_that_did_not_open_is_wiped_even_with_a_good_checkpoint) {
  auto in = inputs(120, 10, 400);
  in.db_opened = false;
  in.db_problem = "Corruption: bad manifest";
  const auto p = plan_restore(in);
  EXPECT_TRUE(p.wipe);
  EXPECT_EQ(p.from, 10);
  EXPECT_TRUE(says(p, "did not open (Corruption: bad manifest)")) << p.why;
}

TEST(restore_plan, no_checkpoint_wipes_and_reads_the_whole_changelog) {
  const auto p = plan_restore(inputs(std::nullopt, 10, 400));
  EXPECT_TRUE(p.wipe);
  EXPECT_EQ(p.from, 10);
  EXPECT_TRUE(says(p, "no checkpoint (absent)")) << p.why;
}

TEST(restore_plan, a_damaged_checkpoint_wipes_and_says_what_was_wrong) {
  auto in = inputs(std::nullopt, 0, 400);
  in.checkpoint_problem = "torn or corrupt (checksum mismatch)";
  const auto p = plan_restore(in);
  EXPECT_TRUE(p.wipe);
  EXPECT_EQ(p.from, 0);
  EXPECT_TRUE(says(p, "torn or corrupt (checksum mismatch)")) << p.why;
}

TEST(restore_plan, a_checkpoint_beyond_the_changelog_end_wipes) {
  const auto p = plan_restore(inputs(900, 10, 400));
  EXPECT_TRUE(p.wipe);
  EXPECT_EQ(p.from, 10);
  EXPECT_TRUE(says(p, "checkpoint 900 is beyond the changelog's end 400")) << p.why;
}

TEST(restore_plan, a_checkpoint_one_past_the_changelog_end_wipes) {
  const auto p = plan_restore(inputs(401, 0, 400));
  EXPECT_TRUE(p.wipe);
  EXPECT_EQ(p.from, 0);
}

TEST(restore_plan, a_checkpoint_before_the_changelog_start_wipes) {
  const auto p = plan_restore(inputs(5, 10, 400));
  EXPECT_TRUE(p.wipe);
  EXPECT_EQ(p.from, 10);
  EXPECT_TRUE(says(p, "checkpoint 5 is before the changelog's start 10")) << p.why;
}

TEST(restore_plan, a_checkpoint_one_before_the_changelog_start_wipes) {
  const auto p = plan_restore(inputs(9, 10, 400));
  EXPECT_TRUE(p.wipe);
  EXPECT_EQ(p.from, 10);
}
