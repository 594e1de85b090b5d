// Group thread: the agent's input topics as the cluster has them. Topics
// missing at start are looked for every second; a consumed topic deleted
// while running is noticed from librdkafka's error events and reported once;
// co-partitioned inputs are checked to keep their partition counts; which
// topics the consumer subscribes to, and which inputs a task reads.

#include "src/group/consumer_group.hpp"

#include <algorithm>

#include <kactor/log.hpp>

#include "src/group/store_setup.hpp"
#include "src/kafka/admin.hpp"

namespace kactor::detail {

std::vector<std::string> consumer_group::absent(const std::vector<std::string>& topics,
                                                int timeout_ms) {
  std::vector<std::string> out;
  for (const auto& t : topics)
    if (topic_status(rk_.get(), t, timeout_ms) == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      out.push_back(t);
  return out;
}

std::vector<std::string> consumer_group::missing_topics() {
  return absent(def_.cfg.topics, 10000);
}

void consumer_group::watch_missing_topics(std::vector<std::string> topics) {
  std::lock_guard lock(missing_mx_);
  missing_topics_ = std::move(topics);
}

void consumer_group::look_for_missing_topics() {
  std::vector<std::string> missing;
  {
    std::lock_guard lock(missing_mx_);
    missing = missing_topics_;
  }
  if (missing.empty()) return;
  std::vector<std::string> still;
  try {
    still = absent(missing, 1000);
  } catch (const kafka_exception&) {
    return;  // the brokers did not answer: look again later
  }
  if (still.size() == missing.size()) return;
  // The subscription would see the topic only at the next periodic refresh
  // (topic.metadata.refresh.interval.ms, 5 min by default): librdkafka
  // re-checks a group's subscription on a metadata answer that lists every
  // topic, so ask for one now (rdkafka_metadata.c, v2.0.2).
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_metadata(rk_.get(), 1, nullptr, &raw, 5000);
  const metadata_ptr all_topics{raw};  // null if it failed: the next look retries
  for (const auto& t : missing)
    if (std::find(still.begin(), still.end(), t) == still.end())
      log_about(log_level::info, {def_.cfg.name}, "consumed topic {} exists now", t);
  std::lock_guard lock(missing_mx_);
  missing_topics_ = std::move(still);
}

void consumer_group::on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<consumer_hooks*>(opaque)->group.load();
  if (!self) return;  // a consumer left to the process (release_consumer)
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  // A consumed topic deleted under the agent: librdkafka says so every
  // second for as long as it is gone; the agent reports it once instead.
  if ((code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
       code == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || code == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) &&
      self->notice_deleted_topics())
    return;
  log_about(code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
                ? log_level::warn
                : log_level::error,
            {self->def_.cfg.name}, "consumer: {}", reason);
}

bool consumer_group::notice_deleted_topics() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> missing;
  {
    std::lock_guard lock(missing_mx_);
    missing = missing_topics_;
  }
  if (now - last_deleted_check_ < std::chrono::seconds(1)) return !missing.empty();
  last_deleted_check_ = now;
  std::vector<std::string> present;
  for (const auto& t : def_.cfg.topics)
    if (std::find(missing.begin(), missing.end(), t) == missing.end()) present.push_back(t);
  std::vector<std::string> gone;
  try {
    gone = absent(present, 1000);
  } catch (const kafka_exception&) {
    return !missing.empty();  // the brokers did not answer: librdkafka's error stands
  }
  for (const auto& t : gone)
    log_about(log_level::error, {def_.cfg.name},
              "consumed topic {} does not exist any more (deleted?): the agent reports it "
              "in missing_topics, is not ready, and consumes it again if it comes back",
              t);
  if (!gone.empty()) topic_deleted_ = true;
  std::lock_guard lock(missing_mx_);
  missing_topics_.insert(missing_topics_.end(), gone.begin(), gone.end());
  return !missing_topics_.empty();
}

void consumer_group::check_co_partitioning() {
  if (!co_partitioned_ || co_partitioning_reported_) return;
  std::map<std::string, int> counts;
  for (const auto& t : def_.cfg.topics) {
    try {
      counts[t] = partition_count(rk_.get(), "the cluster", t, "input topic", 500);
    } catch (const kafka_exception& e) {
      // A topic that is gone stays out of `counts` (and is reported); the
      // brokers not answering are looked at again later.
      if (e.info().cls != error_class::irrecoverable) return;
    }
  }
  auto why = co_partitioning_error(def_.cfg.topics, counts);
  if (!why) return;
  co_partitioning_reported_ = true;
  health_->fail(*why);
  log_about(log_level::error, {def_.cfg.name},
            "{}; partitions beyond the smallest count are not read together with their "
            "counterparts. Make the counts equal and restart the agent",
            *why);
}

std::vector<std::string> consumer_group::subscribed_topics() const {
  const auto& t = def_.cfg.topics;
  return co_partitioned_ ? std::vector<std::string>{t.front()} : t;
}

std::vector<topic_partition> consumer_group::task_inputs(const topic_partition& tp) const {
  if (!co_partitioned_) return {tp};
  std::vector<topic_partition> inputs;
  for (const auto& t : def_.cfg.topics) inputs.push_back({t, tp.partition});
  return inputs;
}

tpl_ptr consumer_group::with_co_partitions(const rd_kafka_topic_partition_list_t* parts) const {
  auto out = make_tpl(parts->cnt * static_cast<int>(co_partitioned_ ? def_.cfg.topics.size() : 1));
  for (int i = 0; i < parts->cnt; ++i)
    for (const auto& in : task_inputs(to_tp(parts->elems[i])))
      rd_kafka_topic_partition_list_add(out.get(), in.topic.c_str(), in.partition.value());
  return out;
}

}  // namespace kactor::detail
