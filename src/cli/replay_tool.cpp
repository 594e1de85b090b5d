#include "src/cli/replay_tool.hpp"

#include <algorithm>

#include <kactor/error.hpp>

#include "src/config/time.hpp"
#include "src/kafka/admin.hpp"

namespace kactor::detail {

namespace {

/// "client@host (member id)" for each member.
std::string name_members(const group_description& g) {
  std::string out;
  for (const auto& m : g.members) {
    if (!out.empty()) out += ", ";
    out += m.client_id + "@" + m.host + " (" + m.member_id + ")";
  }
  return out;
}

}  // namespace

std::vector<replay_row> run_replay(const replay_options& o) {
  const int tmo = static_cast<int>(o.timeout.count());
  auto rk =
      make_group_client({{"", "bootstrap.servers", o.brokers}, {"", "log_level", "0"}}, o.group);
  check_brokers(rk.get(), o.brokers, tmo);
  const auto group = describe_group(rk.get(), o.group, tmo);
  if (!group.members.empty())
    throw replay_refused("group " + o.group + " has " + std::to_string(group.members.size()) +
                         " active member(s) (state " + group.state + "): " + name_members(group) +
                         "; stop them first: a running member commits over the new offsets");
  const int partitions = partition_count(rk.get(), o.brokers, o.topic, "topic", tmo);
  const auto committed = group_offsets(rk.get(), o.group, tmo);

  auto target = make_tpl(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(target.get(), o.topic.c_str(), p);
  std::vector<replay_row> rows(static_cast<std::size_t>(partitions));
  if (o.to == replay_options::target::time) offsets_at_time(rk.get(), target.get(), o.value, tmo);
  for (int p = 0; p < partitions; ++p) {
    auto& row = rows[static_cast<std::size_t>(p)];
    row.partition = p;
    if (auto it = committed.find({o.topic, p}); it != committed.end()) row.old_offset = it->second;
    auto& e = target->elems[p];
    if (o.to != replay_options::target::time) {
      const auto [lo, hi] = watermarks(rk.get(), o.topic, p, tmo);
      if (o.to == replay_options::target::earliest)
        e.offset = lo;
      else if (o.to == replay_options::target::latest)
        e.offset = hi;
      else {
        e.offset = std::clamp(o.value, lo, hi);
        row.clamped = e.offset != o.value;
      }
    }
    row.new_offset = e.offset;
  }
  if (!o.dry_run) alter_group_offsets(rk.get(), o.group, target.get(), tmo);
  return rows;
}

void print_replay(const replay_options& o, const std::vector<replay_row>& rows, std::ostream& out) {
  std::string to;
  switch (o.to) {
    case replay_options::target::time:
      to = "the first record at or after " + format_time(o.value);
      break;
    case replay_options::target::offset:
      to = "offset " + std::to_string(o.value);
      break;
    case replay_options::target::earliest:
      to = "the log's start";
      break;
    case replay_options::target::latest:
      to = "the log's end";
      break;
  }
  out << (o.dry_run ? "DRY RUN (nothing committed): " : "") << "group " << o.group << " on "
      << o.topic << " to " << to << "\n";
  for (const auto& r : rows)
    out << o.topic << "/" << r.partition << ": "
        << (r.old_offset >= 0 ? std::to_string(r.old_offset) : std::string("none")) << " -> "
        << r.new_offset << (r.clamped ? " (outside the log: clamped)" : "") << "\n";
}

}  // namespace kactor::detail
