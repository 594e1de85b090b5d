#include "src/kafka_handles.hpp"

#include <chrono>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

namespace kactor::detail {

void append(property_list& out, const std::string& source,
            const std::map<std::string, std::string>& props) {
  for (const auto& [k, v] : props) out.push_back(property{source, k, v});
}

namespace {

/// librdkafka's log lines, through spdlog. Failed commits during a rebalance
/// are expected (the next commit or the revocation retries them): debug only.
void log_to_spdlog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  auto lvl = level <= 3   ? spdlog::level::err
             : level == 4 ? spdlog::level::warn
             : level <= 6 ? spdlog::level::info
                          : spdlog::level::debug;
  if (std::strcmp(fac, "COMMITFAIL") == 0) lvl = spdlog::level::debug;
  spdlog::log(lvl, "{} {}: {}", rd_kafka_name(rk), fac, buf);
}

}  // namespace

conf_ptr make_conf(const property_list& props) {
  conf_ptr conf{rd_kafka_conf_new()};
  rd_kafka_conf_set_log_cb(conf.get(), &log_to_spdlog);
  char errstr[512];
  for (const auto& p : props) {
    if (rd_kafka_conf_set(conf.get(), p.name.c_str(), p.value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      throw config_error(p.source.empty() ? p.name : p.source + "." + p.name,
                         std::string("librdkafka refuses it: ") + errstr +
                             " (see librdkafka's CONFIGURATION.md for the allowed properties)");
    }
  }
  return conf;
}

handle_ptr make_client(rd_kafka_type_t type, conf_ptr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (!rk)
    throw kafka_exception(
        error_info{error_class::fatal, 0, std::string("cannot create Kafka client: ") + errstr});
  (void)conf.release();  // rd_kafka_new took ownership
  return handle_ptr{rk};
}

error_info make_error(rd_kafka_resp_err_t err, const std::string& context) {
  return error_info{classify_kafka_error(err), static_cast<int>(err),
                    context + ": " + rd_kafka_err2str(err)};
}

error_info make_error(const rd_kafka_error_t* err, const std::string& context) {
  auto code = rd_kafka_error_code(err);
  return error_info{
      classify_kafka_error(code, rd_kafka_error_is_fatal(err), rd_kafka_error_is_retriable(err),
                           rd_kafka_error_txn_requires_abort(err)),
      static_cast<int>(code), context + ": " + rd_kafka_error_string(err)};
}

tpl_ptr make_tpl(int size) {
  return tpl_ptr{rd_kafka_topic_partition_list_new(size)};
}

rd_kafka_resp_err_t topic_status(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  // librdkafka refuses names it knows no broker accepts (empty, too long).
  topic_ptr rkt{rd_kafka_topic_new(rk, topic.c_str(), nullptr)};
  if (!rkt) return RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION;
  const rd_kafka_metadata_t* md = nullptr;
  if (auto err = rd_kafka_metadata(rk, 0, rkt.get(), &md, timeout_ms))
    throw kafka_exception(make_error(err, "metadata for " + topic));
  const auto err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  rd_kafka_metadata_destroy(md);
  // A topic being created has no leaders yet: it exists.
  return err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ? RD_KAFKA_RESP_ERR_NO_ERROR : err;
}

event_ptr admin_request(
    rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms, const std::string& what,
    const std::function<void(rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& issue) {
  queue_ptr q{rd_kafka_queue_new(rk)};
  auto* opts = rd_kafka_AdminOptions_new(rk, op);
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr));
  issue(opts, q.get());
  rd_kafka_AdminOptions_destroy(opts);
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
  std::vector<rd_kafka_NewTopic_t*> nts;
  char errstr[512];
  for (const auto& [name, parts] : topics) {
    auto* nt = rd_kafka_NewTopic_new(name.c_str(), parts, -1, errstr, sizeof(errstr));
    if (!nt) {
      for (auto* x : nts) rd_kafka_NewTopic_destroy(x);
      throw kafka_exception(
          error_info{error_class::irrecoverable, 0, "cannot create topic " + name + ": " + errstr});
    }
    nts.push_back(nt);
    for (const auto& [key, value] : configs)
      if (auto err = rd_kafka_NewTopic_set_config(nt, key.c_str(), value.c_str())) {
        for (auto* x : nts) rd_kafka_NewTopic_destroy(x);
        throw kafka_exception(make_error(err, "topic " + name + ": config " + key + "=" + value));
      }
  }
  auto ev = admin_request(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms, "CreateTopics",
                          [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr,
                                                                        sizeof(errstr));
                            rd_kafka_CreateTopics(rk, nts.data(), nts.size(), opts, q);
                            for (auto* x : nts) rd_kafka_NewTopic_destroy(x);  // copied
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

}  // namespace kactor::detail
