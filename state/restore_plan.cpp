// The restore decision table: resume from the checkpoint or wipe and replay the changelog.
#include "state/restore_plan.hpp"

#include <utility>

namespace kactor::detail {

namespace {

restore_plan wipe(const restore_inputs& in, std::string why) {
  return {true, in.log_start, std::move(why)};
}

}  // namespace

restore_plan plan_restore(const restore_inputs& in) {
  const std::string log =
      "changelog " + std::to_string(in.log_start) + ".." + std::to_string(in.log_end);
  if (!in.db_opened)
    return wipe(in, "the local store did not open (" + in.db_problem +
                        "): wiping it and restoring the whole " + log);
  if (!in.checkpoint)
    return wipe(in, "no checkpoint (" + in.checkpoint_problem +
                        "): wiping the local store and restoring the whole " + log);
  const std::int64_t cp = *in.checkpoint;
  if (cp > in.log_end)
    return wipe(in, "checkpoint " + std::to_string(cp) + " is beyond the changelog's end " +
                        std::to_string(in.log_end) +
                        " (the changelog was recreated or truncated): wiping the local store");
  if (cp < in.log_start)
    return wipe(in, "checkpoint " + std::to_string(cp) + " is before the changelog's start " +
                        std::to_string(in.log_start) +
                        " (records it needs were deleted): wiping the local store");
  return {false, cp, "resuming from checkpoint " + std::to_string(cp) + " (" + log + ")"};
}

}  // namespace kactor::detail
