#include "src/lag.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "src/kafka_handles.hpp"

namespace kactor::detail {
namespace {

/// The partitions `group`'s current members are assigned (none if it is empty).
std::vector<std::pair<std::string, std::int32_t>> assigned_partitions(rd_kafka_t* rk,
                                                                      const std::string& group,
                                                                      int tmo) {
  const char* names[] = {group.c_str()};
  auto ev = admin_request(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, tmo, "group " + group,
                          [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            rd_kafka_DescribeConsumerGroups(rk, names, 1, opts, q);
                          });
  std::vector<std::pair<std::string, std::int32_t>> out;
  size_t n = 0;
  const auto** groups = rd_kafka_DescribeConsumerGroups_result_groups(
      rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &n);
  for (size_t g = 0; g < n; ++g) {
    if (rd_kafka_ConsumerGroupDescription_error(groups[g])) continue;
    const auto members = rd_kafka_ConsumerGroupDescription_member_count(groups[g]);
    for (size_t m = 0; m < members; ++m) {
      const auto* assignment = rd_kafka_MemberDescription_assignment(
          rd_kafka_ConsumerGroupDescription_member(groups[g], m));
      const auto* parts = assignment ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
      for (int i = 0; parts && i < parts->cnt; ++i)
        out.emplace_back(parts->elems[i].topic, parts->elems[i].partition);
    }
  }
  return out;
}

}  // namespace

group_lag query_group_lag(const std::string& brokers, const std::string& group,
                          std::chrono::milliseconds timeout) {
  const int tmo = static_cast<int>(timeout.count());
  property_list props{{"", "bootstrap.servers", brokers}, {"", "log_level", "0"}};
  auto rk = make_client(RD_KAFKA_PRODUCER, make_conf(props));

  const rd_kafka_metadata_t* md = nullptr;
  if (auto err = rd_kafka_metadata(rk.get(), 0, nullptr, &md, tmo))
    throw kafka_exception(make_error(err, "cannot reach brokers " + brokers));
  rd_kafka_metadata_destroy(md);

  auto ev = admin_request(
      rk.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, tmo,
      "group " + group + " on " + brokers, [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
        auto* req = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
        rd_kafka_ListConsumerGroupOffsets(rk.get(), &req, 1, opts, q);
        rd_kafka_ListConsumerGroupOffsets_destroy(req);
      });
  // Committed offsets by partition; then the partitions the group's members
  // hold without a commit yet (their lag is the whole partition), as Kafka's
  // own consumer-groups tool lists them.
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> offsets;
  size_t n = 0;
  const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &n);
  for (size_t g = 0; g < n; ++g) {
    if (const auto* gerr = rd_kafka_group_result_error(groups[g]))
      throw kafka_exception(make_error(gerr, "group " + group));
    const auto* parts = rd_kafka_group_result_partitions(groups[g]);
    for (int i = 0; parts && i < parts->cnt; ++i)
      offsets[{parts->elems[i].topic, parts->elems[i].partition}] =
          parts->elems[i].offset >= 0 ? parts->elems[i].offset : -1;
  }
  for (const auto& tp : assigned_partitions(rk.get(), group, tmo)) offsets.try_emplace(tp, -1);

  group_lag out;
  out.group = group;
  for (const auto& [tp, committed] : offsets) {
    partition_lag pl;
    pl.topic = tp.first;
    pl.partition = tp.second;
    pl.committed = committed;
    int64_t lo = 0, hi = 0;
    if (auto err = rd_kafka_query_watermark_offsets(rk.get(), pl.topic.c_str(), pl.partition, &lo,
                                                    &hi, tmo))
      throw kafka_exception(
          make_error(err, "end offset of " + pl.topic + "/" + std::to_string(pl.partition)));
    pl.end = hi;
    pl.lag = std::max<int64_t>(0, hi - (pl.committed >= 0 ? pl.committed : lo));
    out.total += pl.lag;
    out.partitions.push_back(std::move(pl));
  }
  if (out.partitions.empty())
    throw kafka_exception(error_info{
        error_class::irrecoverable, 0,
        "group " + group + " is unknown on " + brokers + " (it has no committed offsets)"});
  std::sort(out.partitions.begin(), out.partitions.end(), [](const auto& a, const auto& b) {
    return a.topic != b.topic ? a.topic < b.topic : a.partition < b.partition;
  });
  return out;
}

}  // namespace kactor::detail
