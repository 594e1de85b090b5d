#include "src/kafka/handles.hpp"

#include <chrono>
#include <cstring>
#include <string>

#include <kactor/log.hpp>

namespace kactor::detail {

void append(property_list& out, const std::string& source,
            const std::map<std::string, std::string>& props) {
  for (const auto& [k, v] : props) out.push_back(property{source, k, v});
}

void log_librdkafka(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  auto lvl = level <= 3   ? log_level::error
             : level == 4 ? log_level::warn
             : level <= 6 ? log_level::info
                          : log_level::debug;
  // Failed commits during a rebalance are expected (the next commit or the
  // revocation retries them); a failed transaction kactor reports itself,
  // with what it does about it (src/group/transactions.cpp).
  if (std::strcmp(facility, "COMMITFAIL") == 0 || std::strcmp(facility, "TXNERR") == 0)
    lvl = log_level::debug;
  log(lvl, "{} {}: {}", rd_kafka_name(rk), facility, text);
}

std::optional<std::string> conf_value(const rd_kafka_conf_t* conf, const char* name) {
  size_t size = 0;
  if (rd_kafka_conf_get(conf, name, nullptr, &size) != RD_KAFKA_CONF_OK) return std::nullopt;
  std::string value(size, '\0');
  if (rd_kafka_conf_get(conf, name, value.data(), &size) != RD_KAFKA_CONF_OK) return std::nullopt;
  value.resize(size > 0 ? size - 1 : 0);  // size counts the terminating NUL
  return value;
}

conf_ptr make_conf(const property_list& props) {
  conf_ptr conf{rd_kafka_conf_new()};
  rd_kafka_conf_set_log_cb(conf.get(), &log_librdkafka);
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

}  // namespace kactor::detail
