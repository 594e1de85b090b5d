#include "src/cli/dlq_tool.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include <kactor/dead_letter.hpp>
#include <kactor/error.hpp>
#include <nlohmann/json.hpp>

#include "src/cli/progress.hpp"
#include "src/kafka/admin.hpp"
#include "src/kafka/handles.hpp"
#include "src/kafka/producer.hpp"

namespace kactor::detail {

namespace {

using steady = std::chrono::steady_clock;

constexpr std::string_view redrive_from_header = "kactor.redrive.from";

[[noreturn]] void fail(error_class cls, int code, const std::string& message) {
  throw kafka_exception(error_info{cls, code, message});
}

/// The value of the last header called `name` of `hdrs`; nullopt when absent or null.
std::optional<std::string_view> last_header(rd_kafka_headers_t* hdrs, std::string_view name) {
  const void* val = nullptr;
  std::size_t size = 0;
  if (!hdrs || rd_kafka_header_get_last(hdrs, std::string(name).c_str(), &val, &size) || !val)
    return std::nullopt;
  return std::string_view(static_cast<const char*>(val), size);
}

/// Delivery outcomes of the re-drive producer, updated by its callback on the
/// thread that polls or flushes it.
struct delivery_state {
  std::int64_t failed = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (!m->err) return;
  auto* state = static_cast<delivery_state*>(opaque);
  if (state->failed++ == 0)
    state->first_error = std::string("delivery to ") + rd_kafka_topic_name(m->rkt) +
                         " failed: " + rd_kafka_err2str(m->err);
}

void throw_if_failed(const delivery_state& state, const std::string& dlq) {
  if (state.failed > 0)
    fail(error_class::retriable, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
         "re-driving " + dlq + ": " + std::to_string(state.failed) + " record(s) not delivered (" +
             state.first_error + "); nothing committed");
}

}  // namespace

std::size_t read_dlq(const std::string& brokers, const std::string& topic, std::size_t limit,
                     std::chrono::milliseconds timeout,
                     const std::function<void(const topic_record&)>& on_record) {
  const int tmo = static_cast<int>(timeout.count());
  // Assign-only: the group is never joined and nothing is committed for it.
  auto rk = make_reader(brokers, "kactor-dlq-show");
  const int partitions = partition_count(rk.get(), brokers, topic, "dead-letter topic", tmo);
  offset_ranges ranges;
  for (std::int32_t p = 0; p < partitions; ++p)
    if (const auto [lo, hi] = watermarks(rk.get(), topic, p, tmo); lo < hi) ranges[p] = {lo, hi};
  std::size_t seen = 0;
  for (auto it = ranges.begin(); it != ranges.end() && (limit == 0 || seen < limit); ++it) {
    read_ranges(rk.get(), topic, {*it}, timeout, [&](const rd_kafka_message_t& m) {
      on_record(to_record(m));
      ++seen;
      return limit == 0 || seen < limit;
    });
  }
  rd_kafka_consumer_close(rk.get());
  return seen;
}

std::string format_dlq_line(const topic_record& r) {
  const auto c = decode_dead_letter_headers([&r](std::string_view name) { return r.header(name); });
  auto number = [](const auto& v) { return v ? std::to_string(*v) : std::string("-"); };
  std::string out = "partition=" + std::to_string(r.partition) +
                    " offset=" + std::to_string(r.offset) + " key=" + printable(r.key, true) +
                    " value=" + printable_cut(r.value, preview_bytes) + " source=";
  auto value_of = [](const auto& v) { return v ? std::to_string(v->value()) : std::string("-"); };
  out += c.source_topic ? printable(c.source_topic, false) + "/" + value_of(c.source_partition) +
                              "@" + value_of(c.source_offset)
                        : "-";
  out += " agent=" + printable(c.agent, false);
  out += " class=" + std::string(c.error_class ? to_string(*c.error_class) : "-");
  out += " attempts=" + number(c.attempts);
  out += " error=" + printable(c.error_message, true);
  if (c.error_message_size) out += " error_size=" + number(c.error_message_size);
  if (c.value_omitted) {
    out += c.key_omitted ? " omitted=value,key,headers" : " omitted=value";
    out += " value_size=" + number(c.value_size);
  }
  return out;
}

std::string format_dlq_json(const topic_record& r) {
  nlohmann::ordered_json out;
  out["partition"] = r.partition;
  out["offset"] = r.offset;
  out["timestamp"] = r.timestamp_ms;
  put_record(out, r);
  return out.dump();
}

std::string redrive_group(const std::string& dlq) {
  return "kactor-redrive." + dlq;
}

namespace {

/// Per partition of `dlq`, the offsets to re-drive: from where `group` left
/// off (a partition it never committed: the beginning) to the end as of now.
offset_ranges pending_ranges(rd_kafka_t* reader, const std::string& dlq, const std::string& group,
                             int partitions, int tmo) {
  auto committed = make_tpl(partitions);
  for (std::int32_t p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(committed.get(), dlq.c_str(), p);
  if (auto err = rd_kafka_committed(reader, committed.get(), tmo))
    throw kafka_exception(make_error(err, "committed offsets of group " + group));
  offset_ranges ranges;
  for (int i = 0; i < committed->cnt; ++i) {
    const auto& c = committed->elems[i];
    if (c.err) throw kafka_exception(make_error(c.err, "committed offset of " + group));
    const auto [lo, hi] = watermarks(reader, dlq, c.partition, tmo);
    const auto first = c.offset >= 0 ? std::max(c.offset, lo) : lo;
    if (first < hi) ranges[c.partition] = {first, hi};
  }
  return ranges;
}

handle_ptr make_redrive_producer(const std::string& brokers, delivery_state& delivery) {
  property_list props{{"", "bootstrap.servers", brokers},
                      {"", "enable.idempotence", "true"},
                      {"", "allow.auto.create.topics", "false"},
                      {"", "log_level", "0"}};
  auto conf = make_conf(props);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), &delivery);
  return make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

/// What becomes of the dead letter `m` (headers `hdrs`, null if none),
/// counted in `summary`. `check_target` throws for a target that does not exist.
redrive_step decide(const rd_kafka_message_t& m, rd_kafka_headers_t* hdrs,
                    const redrive_options& opts, redrive_summary& summary,
                    const std::function<void(const std::string&)>& check_target) {
  redrive_step step{m.partition, m.offset, redrive_step::outcome::redriven, {}, {}};
  const bool matches = std::all_of(opts.where.begin(), opts.where.end(), [&](const auto& w) {
    return last_header(hdrs, w.first) == std::optional<std::string_view>(w.second);
  });
  const auto context =
      decode_dead_letter_headers([hdrs](std::string_view name) { return last_header(hdrs, name); });
  const auto& source = context.source_topic;
  if (!matches) {
    step.what = redrive_step::outcome::not_matching;
    ++summary.not_matching;
  } else if (context.value_omitted) {
    step.what = redrive_step::outcome::value_omitted;
    step.source = context.source();
    ++summary.value_omitted;
  } else if (opts.to.empty() && (!source || source->empty())) {
    step.what = redrive_step::outcome::no_target;
    ++summary.no_target;
  } else {
    step.target = opts.to.empty() ? *source : opts.to;
    check_target(step.target);
    ++summary.redriven[step.target];
  }
  return step;
}

/// Produces the dead letter `m` of `dlq` to `target` with its key, value and
/// headers except kactor.dlq.*, adding kactor.redrive.from.
void redrive_one(rd_kafka_t* producer, const rd_kafka_message_t& m, rd_kafka_headers_t* hdrs,
                 const std::string& target, const std::string& dlq, int tmo) {
  headers_ptr out{rd_kafka_headers_new(8)};
  const char* name;
  const void* val;
  std::size_t size;
  for (std::size_t i = 0; hdrs && rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; ++i)
    if (std::string_view(name).substr(0, dlq_header::prefix.size()) != dlq_header::prefix)
      rd_kafka_header_add(out.get(), name, -1, val, val ? static_cast<ssize_t>(size) : 0);
  const auto from = where_in(dlq, m.partition, m.offset);
  rd_kafka_header_add(out.get(), redrive_from_header.data(),
                      static_cast<ssize_t>(redrive_from_header.size()), from.data(),
                      static_cast<ssize_t>(from.size()));
  outgoing_record r;
  r.topic = target;
  r.key = std::string_view(static_cast<const char*>(m.key), m.key ? m.key_len : 0);
  r.value = std::string_view(static_cast<const char*>(m.payload), m.payload ? m.len : 0);
  r.headers = &out;
  produce(producer, r, queue_full_policy{std::chrono::milliseconds(tmo), true},
          "re-driving " + from + " to");
  rd_kafka_poll(producer, 0);
}

/// Commits, for the reader's group, the end of every range read.
void commit_reached(rd_kafka_t* reader, const std::string& dlq, const offset_ranges& ranges,
                    redrive_summary& summary, bool dry_run) {
  auto reached = make_tpl(static_cast<int>(ranges.size()));
  for (const auto& [p, range] : ranges) {
    rd_kafka_topic_partition_list_add(reached.get(), dlq.c_str(), p)->offset = range.second;
    summary.reached[p] = range.second;
  }
  if (dry_run || reached->cnt == 0) return;
  if (auto err = rd_kafka_commit(reader, reached.get(), 0))
    throw kafka_exception(make_error(err, "committing group " + summary.group));
  for (int i = 0; i < reached->cnt; ++i)
    if (auto err = reached->elems[i].err)
      throw kafka_exception(make_error(
          err, "committing group " + summary.group + " at " +
                   where_in(dlq, reached->elems[i].partition, reached->elems[i].offset)));
}

}  // namespace

redrive_summary redrive_dlq(const redrive_options& opts,
                            const std::function<void(const redrive_step&)>& on_step) {
  const int tmo = static_cast<int>(opts.timeout.count());
  redrive_summary summary;
  summary.group = redrive_group(opts.dlq);
  auto reader = make_reader(opts.brokers, summary.group);
  const int partitions =
      partition_count(reader.get(), opts.brokers, opts.dlq, "dead-letter topic", tmo);
  std::set<std::string> known_targets;
  auto check_target = [&](const std::string& topic) {
    if (known_targets.count(topic)) return;
    partition_count(reader.get(), opts.brokers, topic, "target topic", tmo);
    known_targets.insert(topic);
  };
  if (opts.to == opts.dlq)
    fail(error_class::irrecoverable, RD_KAFKA_RESP_ERR__INVALID_ARG,
         "cannot re-drive " + opts.dlq + " into itself");
  if (!opts.to.empty()) check_target(opts.to);

  const auto ranges = pending_ranges(reader.get(), opts.dlq, summary.group, partitions, tmo);
  delivery_state delivery;
  handle_ptr producer;
  if (!opts.dry_run) producer = make_redrive_producer(opts.brokers, delivery);
  std::int64_t pending = 0;
  for (const auto& [p, r] : ranges) pending += r.second - r.first;
  std::ostringstream no_progress;
  progress_reporter progress(opts.progress ? *opts.progress : no_progress,
                             "kactor dlq redrive: examined", pending, opts.terminal,
                             opts.progress_every);
  auto redrive = [&](const rd_kafka_message_t& m) {
    ++summary.examined;
    rd_kafka_headers_t* hdrs = nullptr;
    rd_kafka_message_headers(&m, &hdrs);  // leaves hdrs null when there are none
    const auto step = decide(m, hdrs, opts, summary, check_target);
    if (step.what == redrive_step::outcome::redriven && producer) {
      redrive_one(producer.get(), m, hdrs, step.target, opts.dlq, tmo);
      throw_if_failed(delivery, opts.dlq);
    }
    on_step(step);
    if (opts.progress) progress.update(summary.examined);
    return true;
  };
  if (!ranges.empty()) read_ranges(reader.get(), opts.dlq, ranges, opts.timeout, redrive);
  progress.finish();

  if (producer) {
    if (auto err = rd_kafka_flush(producer.get(), tmo))
      throw kafka_exception(make_error(err, "re-driving " + opts.dlq +
                                                ": not every record was acknowledged within " +
                                                std::to_string(tmo) + " ms; nothing committed"));
    throw_if_failed(delivery, opts.dlq);
  }
  commit_reached(reader.get(), opts.dlq, ranges, summary, opts.dry_run);
  rd_kafka_consumer_close(reader.get());
  return summary;
}

}  // namespace kactor::detail
