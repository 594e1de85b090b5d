#include "src/kafka/admin.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <utility>

namespace kactor::detail {

rd_kafka_resp_err_t topic_status(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  // librdkafka refuses names it knows no broker accepts (empty, too long).
  topic_ptr rkt{rd_kafka_topic_new(rk, topic.c_str(), nullptr)};
  if (!rkt) return RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION;
  const rd_kafka_metadata_t* raw = nullptr;
  if (auto err = rd_kafka_metadata(rk, 0, rkt.get(), &raw, timeout_ms))
    throw kafka_exception(make_error(err, "metadata for " + topic));
  const metadata_ptr md{raw};
  const auto err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  // A topic being created has no leaders yet: it exists.
  return err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ? RD_KAFKA_RESP_ERR_NO_ERROR : err;
}

namespace {

kafka_exception unreachable(const std::string& brokers, int timeout_ms, rd_kafka_resp_err_t err) {
  return kafka_exception(error_info{
      classify_kafka_error(err), err,
      "cannot reach the Kafka brokers " + brokers + " within " + std::to_string(timeout_ms) +
          " ms (" + rd_kafka_err2str(err) + "): check `brokers` and that the cluster is up"});
}

}  // namespace

void check_brokers(rd_kafka_t* rk, const std::string& brokers, int timeout_ms) {
  const rd_kafka_metadata_t* raw = nullptr;
  // No topic: the answer lists the brokers only.
  if (auto err = rd_kafka_metadata(rk, 0, nullptr, &raw, timeout_ms))
    throw unreachable(brokers, timeout_ms, err);
  const metadata_ptr answered{raw};  // only whether the brokers answer matters
}

namespace {

/// What a probe client's error callback saw that no retry can cure.
struct probe_errors {
  std::mutex mx;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string reason;
};

void record_probe_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code != RD_KAFKA_RESP_ERR__AUTHENTICATION && code != RD_KAFKA_RESP_ERR__SSL &&
      code != RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED)
    return;
  auto* errors = static_cast<probe_errors*>(opaque);
  std::lock_guard lock(errors->mx);
  errors->err = code;
  errors->reason = reason;
}

}  // namespace

void check_brokers(const property_list& props, const std::string& brokers, int timeout_ms) {
  probe_errors errors;
  auto quiet = props;
  quiet.push_back({"", "log_level", "0"});  // the exception says why
  auto conf = make_conf(quiet);
  rd_kafka_conf_set_error_cb(conf.get(), &record_probe_error);
  rd_kafka_conf_set_opaque(conf.get(), &errors);
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  do {
    const rd_kafka_metadata_t* raw = nullptr;
    err = rd_kafka_metadata(rk.get(), 0, nullptr, &raw, 200);
    if (!err) {
      const metadata_ptr answered{raw};
      return;
    }
    rd_kafka_poll(rk.get(), 0);  // runs the error callback
    std::lock_guard lock(errors.mx);
    if (errors.err)
      throw kafka_exception(error_info{
          error_class::fatal, errors.err,
          "cannot authenticate with the Kafka brokers " + brokers + ": " + errors.reason +
              " (check security.protocol, sasl.mechanisms, sasl.username and sasl.password, or "
              "the ssl.* settings)"});
  } while (std::chrono::steady_clock::now() < deadline);
  throw unreachable(brokers, timeout_ms, err);
}

event_ptr admin_request(
    rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms, const std::string& what,
    const std::function<void(rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& issue) {
  queue_ptr q{rd_kafka_queue_new(rk)};
  admin_options_ptr opts{rd_kafka_AdminOptions_new(rk, op)};
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(opts.get(), timeout_ms, errstr, sizeof(errstr));
  issue(opts.get(), q.get());
  opts.reset();
  // The request times out on its own; the margin only guards against a lost answer.
  event_ptr ev{rd_kafka_queue_poll(q.get(), timeout_ms + 5000)};
  if (!ev)
    throw kafka_exception(
        error_info{error_class::retriable, RD_KAFKA_RESP_ERR__TIMED_OUT,
                   what + ": no answer within " + std::to_string(timeout_ms) + " ms"});
  if (auto err = rd_kafka_event_error(ev.get())) throw kafka_exception(make_error(err, what));
  return ev;
}

void create_topics(rd_kafka_t* rk, const std::vector<std::pair<std::string, int>>& topics,
                   int timeout_ms, const std::map<std::string, std::string>& configs) {
  if (topics.empty()) return;
  std::vector<new_topic_ptr> owned;
  std::vector<rd_kafka_NewTopic_t*> nts;
  char errstr[512];
  for (const auto& [name, parts] : topics) {
    new_topic_ptr nt{rd_kafka_NewTopic_new(name.c_str(), parts, -1, errstr, sizeof(errstr))};
    if (!nt)
      throw kafka_exception(
          error_info{error_class::irrecoverable, 0, "cannot create topic " + name + ": " + errstr});
    for (const auto& [key, value] : configs)
      if (auto err = rd_kafka_NewTopic_set_config(nt.get(), key.c_str(), value.c_str()))
        throw kafka_exception(make_error(err, "topic " + name + ": config " + key + "=" + value));
    nts.push_back(nt.get());
    owned.push_back(std::move(nt));
  }
  auto ev = admin_request(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms, "CreateTopics",
                          [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr,
                                                                        sizeof(errstr));
                            rd_kafka_CreateTopics(rk, nts.data(), nts.size(), opts, q);
                          });
  const auto* res = rd_kafka_event_CreateTopics_result(ev.get());
  size_t n = 0;
  const auto** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    auto err = rd_kafka_topic_result_error(results[i]);
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      throw kafka_exception(
          make_error(err, std::string("create topic ") + rd_kafka_topic_result_name(results[i])));
  }
}

std::string topic_config(rd_kafka_t* rk, const std::string& topic, const std::string& name,
                         int timeout_ms) {
  std::unique_ptr<rd_kafka_ConfigResource_t, void (*)(rd_kafka_ConfigResource_t*)> res{
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()),
      rd_kafka_ConfigResource_destroy};
  rd_kafka_ConfigResource_t* resources[] = {res.get()};
  auto ev = admin_request(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms,
                          "DescribeConfigs of " + topic,
                          [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            rd_kafka_DescribeConfigs(rk, resources, 1, opts, q);
                          });
  const auto* result = rd_kafka_event_DescribeConfigs_result(ev.get());
  size_t n = 0;
  const auto** described = rd_kafka_DescribeConfigs_result_resources(result, &n);
  for (size_t i = 0; i < n; ++i) {
    if (auto err = rd_kafka_ConfigResource_error(described[i]))
      throw kafka_exception(make_error(err, "DescribeConfigs of " + topic));
    size_t entries = 0;
    const auto** configs = rd_kafka_ConfigResource_configs(described[i], &entries);
    for (size_t j = 0; j < entries; ++j)
      if (name == rd_kafka_ConfigEntry_name(configs[j])) {
        const char* value = rd_kafka_ConfigEntry_value(configs[j]);
        return value ? value : "";
      }
  }
  return {};
}

std::map<std::string, int> partition_counts(rd_kafka_t* rk, int timeout_ms) {
  const rd_kafka_metadata_t* raw = nullptr;
  if (auto err = rd_kafka_metadata(rk, 1, nullptr, &raw, timeout_ms))
    throw kafka_exception(make_error(err, "metadata of all topics"));
  const metadata_ptr md{raw};
  std::map<std::string, int> out;
  for (int i = 0; i < md->topic_cnt; ++i)
    if (!md->topics[i].err) out[md->topics[i].topic] = md->topics[i].partition_cnt;
  return out;
}

void delete_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, int timeout_ms) {
  if (topics.empty()) return;
  std::vector<delete_topic_ptr> owned;
  std::vector<rd_kafka_DeleteTopic_t*> dts;
  for (const auto& name : topics) {
    owned.emplace_back(rd_kafka_DeleteTopic_new(name.c_str()));
    dts.push_back(owned.back().get());
  }
  auto ev = admin_request(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout_ms, "DeleteTopics",
                          [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            rd_kafka_DeleteTopics(rk, dts.data(), dts.size(), opts, q);
                          });
  size_t n = 0;
  const auto** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i)
    if (auto err = rd_kafka_topic_result_error(results[i]))
      throw kafka_exception(
          make_error(err, std::string("delete topic ") + rd_kafka_topic_result_name(results[i])));
}

/// The partition count of `topic`; throws naming `brokers` when unreachable
/// and `topic` (called `what`) when it does not exist.
int partition_count(rd_kafka_t* rk, const std::string& brokers, const std::string& topic,
                    const std::string& what, int timeout_ms) {
  topic_ptr rkt{rd_kafka_topic_new(rk, topic.c_str(), nullptr)};
  const rd_kafka_metadata_t* raw = nullptr;
  if (auto err = rd_kafka_metadata(rk, 0, rkt.get(), &raw, timeout_ms))
    throw kafka_exception(make_error(err, "cannot reach brokers " + brokers));
  metadata_ptr md{raw};
  const auto err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    throw kafka_exception(error_info{error_class::irrecoverable, err,
                                     what + " " + topic + " does not exist on " + brokers});
  if (err) throw kafka_exception(make_error(err, what + " " + topic));
  return md->topics[0].partition_cnt;
}

/// Low and high watermark. On a read_committed consumer the high one is the
/// last stable offset: librdkafka sends its isolation.level with ListOffsets.
std::int64_t committed_offset(rd_kafka_t* rk, const std::string& topic, std::int32_t partition,
                              int timeout_ms) {
  auto tpl = make_tpl(1);
  auto* p = rd_kafka_topic_partition_list_add(tpl.get(), topic.c_str(), partition);
  auto err = rd_kafka_committed(rk, tpl.get(), timeout_ms);
  if (!err) err = p->err;
  if (err)
    throw kafka_exception(make_error(
        err, "committed offset of " + to_string(topic_partition{topic, partition_id{partition}})));
  return p->offset >= 0 ? p->offset : -1;
}

std::pair<std::int64_t, std::int64_t> watermarks(rd_kafka_t* rk, const std::string& topic,
                                                 std::int32_t partition, int timeout_ms) {
  std::int64_t lo = 0, hi = 0;
  if (auto err =
          rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &lo, &hi, timeout_ms))
    throw kafka_exception(make_error(
        err, "end offset of " + to_string(topic_partition{topic, partition_id{partition}})));
  return {lo, hi};
}

namespace {

/// The partitions `group`'s current members are assigned (none if it is empty).
std::vector<std::pair<std::string, std::int32_t>> assigned_partitions(rd_kafka_t* rk,
                                                                      const std::string& group,
                                                                      int tmo) {
  std::vector<std::pair<std::string, std::int32_t>> out;
  for (const auto& m : describe_group(rk, group, tmo).members)
    out.insert(out.end(), m.assignment.begin(), m.assignment.end());
  return out;
}

}  // namespace

group_description describe_group(rd_kafka_t* rk, const std::string& group, int timeout_ms) {
  const char* names[] = {group.c_str()};
  auto ev =
      admin_request(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout_ms, "group " + group,
                    [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                      rd_kafka_DescribeConsumerGroups(rk, names, 1, opts, q);
                    });
  size_t n = 0;
  const auto** groups = rd_kafka_DescribeConsumerGroups_result_groups(
      rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &n);
  group_description out;
  out.state = "Dead";
  for (size_t g = 0; g < n; ++g) {
    if (const auto* err = rd_kafka_ConsumerGroupDescription_error(groups[g]))
      throw kafka_exception(make_error(rd_kafka_error_code(err),
                                       "group " + group + ": " + rd_kafka_error_string(err)));
    out.state =
        rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(groups[g]));
    const auto members = rd_kafka_ConsumerGroupDescription_member_count(groups[g]);
    for (size_t m = 0; m < members; ++m) {
      const auto* md = rd_kafka_ConsumerGroupDescription_member(groups[g], m);
      group_description::member member{rd_kafka_MemberDescription_client_id(md),
                                       rd_kafka_MemberDescription_host(md),
                                       rd_kafka_MemberDescription_consumer_id(md),
                                       {}};
      const auto* assignment = rd_kafka_MemberDescription_assignment(md);
      const auto* parts = assignment ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
      for (int i = 0; parts && i < parts->cnt; ++i)
        member.assignment.emplace_back(parts->elems[i].topic, parts->elems[i].partition);
      out.members.push_back(std::move(member));
    }
  }
  return out;
}

handle_ptr make_group_client(property_list props, const std::string& group) {
  props.push_back({"", "group.id", group});
  return make_client(RD_KAFKA_CONSUMER, make_conf(props));
}

std::map<std::pair<std::string, std::int32_t>, std::int64_t> group_offsets(rd_kafka_t* rk,
                                                                           const std::string& group,
                                                                           int timeout_ms) {
  auto ev = admin_request(
      rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_ms, "group " + group,
      [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
        list_group_offsets_ptr req{rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr)};
        auto* raw = req.get();
        rd_kafka_ListConsumerGroupOffsets(rk, &raw, 1, opts, q);
      });
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
  return offsets;
}

void alter_group_offsets(rd_kafka_t* rk, const std::string& group,
                         const rd_kafka_topic_partition_list_t* offsets, int timeout_ms) {
  auto ev = admin_request(
      rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout_ms, "group " + group,
      [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
        alter_group_offsets_ptr req{rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), offsets)};
        auto* raw = req.get();
        rd_kafka_AlterConsumerGroupOffsets(rk, &raw, 1, opts, q);
      });
  size_t n = 0;
  const auto** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &n);
  for (size_t g = 0; g < n; ++g) {
    if (const auto* gerr = rd_kafka_group_result_error(groups[g]))
      throw kafka_exception(make_error(gerr, "group " + group));
    const auto* parts = rd_kafka_group_result_partitions(groups[g]);
    for (int i = 0; parts && i < parts->cnt; ++i)
      if (parts->elems[i].err)
        throw kafka_exception(
            make_error(parts->elems[i].err,
                       "group " + group + ": committed offset of " +
                           to_string(topic_partition{parts->elems[i].topic,
                                                     partition_id{parts->elems[i].partition}})));
  }
}

void offsets_at_time(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, std::int64_t ms,
                     int timeout_ms) {
  if (parts->cnt == 0) return;
  for (int i = 0; i < parts->cnt; ++i) parts->elems[i].offset = ms;
  if (auto err = rd_kafka_offsets_for_times(rk, parts, timeout_ms))
    throw kafka_exception(make_error(err, "offsets for time " + std::to_string(ms)));
  for (int i = 0; i < parts->cnt; ++i) {
    auto& e = parts->elems[i];
    if (e.err)
      throw kafka_exception(
          make_error(e.err, "offset for time " + std::to_string(ms) + " in " +
                                to_string(topic_partition{e.topic, partition_id{e.partition}})));
    // No record that new: the broker answers -1; start at the end.
    if (e.offset < 0) e.offset = watermarks(rk, e.topic, e.partition, timeout_ms).second;
  }
}

void start_uncommitted_at(rd_kafka_t* consumer, rd_kafka_topic_partition_list_t* parts,
                          std::int64_t ms, int timeout_ms) {
  tpl_ptr committed{rd_kafka_topic_partition_list_copy(parts)};
  if (auto err = rd_kafka_committed(consumer, committed.get(), timeout_ms))
    throw kafka_exception(make_error(err, "committed offsets"));
  auto fresh = make_tpl(parts->cnt);
  for (int i = 0; i < committed->cnt; ++i) {
    const auto& c = committed->elems[i];
    if (c.err)
      throw kafka_exception(make_error(c.err, "committed offset of " + std::string(c.topic)));
    if (c.offset < 0) rd_kafka_topic_partition_list_add(fresh.get(), c.topic, c.partition);
  }
  offsets_at_time(consumer, fresh.get(), ms, timeout_ms);
  for (int i = 0; i < fresh->cnt; ++i)
    if (auto* p = rd_kafka_topic_partition_list_find(parts, fresh->elems[i].topic,
                                                     fresh->elems[i].partition))
      p->offset = fresh->elems[i].offset;
}

group_lag query_group_lag(const std::string& brokers, const std::string& group,
                          std::chrono::milliseconds timeout) {
  const int tmo = static_cast<int>(timeout.count());
  auto rk = make_group_client({{"", "bootstrap.servers", brokers}, {"", "log_level", "0"}}, group);

  check_brokers(rk.get(), brokers, tmo);

  // Committed offsets by partition; then the partitions the group's members
  // hold without a commit yet (their lag is the whole partition), as Kafka's
  // own consumer-groups tool lists them.
  auto offsets = group_offsets(rk.get(), group, tmo);
  for (const auto& tp : assigned_partitions(rk.get(), group, tmo)) offsets.try_emplace(tp, -1);

  group_lag out;
  out.group = group;
  for (const auto& [tp, committed] : offsets) {
    partition_lag pl;
    pl.topic = tp.first;
    pl.partition = tp.second;
    pl.committed = committed;
    const auto [lo, hi] = watermarks(rk.get(), pl.topic, pl.partition, tmo);
    pl.end = hi;
    pl.lag = std::max<std::int64_t>(0, hi - (pl.committed >= 0 ? pl.committed : lo));
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
