#include "src/cli/dlq_tool.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include <kactor/dead_letter.hpp>
#include <kactor/error.hpp>
#include <nlohmann/json.hpp>

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

std::string where_in(const std::string& topic, std::int32_t partition, std::int64_t offset) {
  return to_string(topic_partition{topic, partition_id{partition}}, kactor::offset{offset});
}

/// A consumer that never auto-commits and never creates topics. `group` is
/// needed for rd_kafka_assign (and for committing, which only redrive does).
handle_ptr make_reader(const std::string& brokers, const std::string& group) {
  property_list props{
      {"", "bootstrap.servers", brokers},        {"", "group.id", group},
      {"", "enable.auto.commit", "false"},       {"", "enable.auto.offset.store", "false"},
      {"", "isolation.level", "read_committed"}, {"", "auto.offset.reset", "earliest"},
      {"", "allow.auto.create.topics", "false"}, {"", "log_level", "0"}};
  return make_client(RD_KAFKA_CONSUMER, make_conf(props));
}

/// Per partition, the offsets [first, end) to read.
using offset_ranges = std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>>;

/// Assigns `ranges` and passes each record below its partition's end to
/// `on_message` until every partition's position has reached its end, or
/// `on_message` returns false. Positions, not the offsets of records seen,
/// tell when a partition is done: transaction markers and aborted records take
/// offsets that no record is returned for. Throws when no partition makes
/// progress for `timeout`.
void read_ranges(rd_kafka_t* rk, const std::string& topic, const offset_ranges& ranges,
                 std::chrono::milliseconds timeout,
                 const std::function<bool(const rd_kafka_message_t&)>& on_message) {
  auto assignment = make_tpl(static_cast<int>(ranges.size()));
  auto positions = make_tpl(static_cast<int>(ranges.size()));
  for (const auto& [p, range] : ranges) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = range.first;
    rd_kafka_topic_partition_list_add(positions.get(), topic.c_str(), p);
  }
  if (auto err = rd_kafka_assign(rk, assignment.get()))
    throw kafka_exception(make_error(err, "cannot assign the partitions of " + topic));
  // Offsets still to read, from the consumer's positions (invalid before the first fetch).
  auto remaining = [&](std::string* where) {
    rd_kafka_position(rk, positions.get());
    std::int64_t left = 0;
    for (int i = 0; i < positions->cnt; ++i) {
      const auto& pos = positions->elems[i];
      const auto& [first, end] = ranges.at(pos.partition);
      const auto at = pos.offset < 0 ? first : pos.offset;
      if (at >= end) continue;
      left += end - at;
      if (where) *where += " " + where_in(topic, pos.partition, at) + " of " + std::to_string(end);
    }
    return left;
  };
  auto left = remaining(nullptr);
  auto deadline = steady::now() + timeout;
  bool stopped = false;
  while (left > 0 && !stopped) {
    message_ptr m{rd_kafka_consumer_poll(rk, 100)};
    if (m && m->err) {
      if (classify_kafka_error(m->err) != error_class::retriable)
        throw kafka_exception(make_error(m->err, "reading " + topic));
    } else if (m && m->offset < ranges.at(m->partition).second) {
      stopped = !on_message(*m);
    }
    if (const auto now_left = remaining(nullptr); now_left < left) {
      left = now_left;
      deadline = steady::now() + timeout;
    } else if (steady::now() >= deadline) {
      std::string at;
      remaining(&at);
      fail(error_class::retriable, RD_KAFKA_RESP_ERR__TIMED_OUT,
           "reading " + topic + " made no progress for " + std::to_string(timeout.count()) +
               " ms; at" + at);
    }
  }
  rd_kafka_assign(rk, nullptr);
}

std::optional<std::string> bytes(const void* p, std::size_t n) {
  if (!p) return std::nullopt;
  return std::string(static_cast<const char*>(p), n);
}

dlq_record to_record(const rd_kafka_message_t& m) {
  dlq_record r;
  r.partition = m.partition;
  r.offset = m.offset;
  rd_kafka_timestamp_type_t type;
  r.timestamp_ms = rd_kafka_message_timestamp(&m, &type);
  r.key = bytes(m.key, m.key_len);
  r.value = bytes(m.payload, m.len);
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(&m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* val;
    std::size_t size;
    for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; ++i)
      r.headers.emplace_back(name, bytes(val, size));
  }
  return r;
}

/// Length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 if there
/// is none: overlong forms, surrogates and code points above U+10FFFF are invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n;
  std::uint32_t cp, min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1Fu, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0Fu, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0, n = 0; i < s.size(); i += n)
    if ((n = utf8_sequence(s, i)) == 0) return false;
  return true;
}

std::string base64(std::string_view s) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < s.size(); i += 3) {
    std::uint32_t chunk = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) chunk |= static_cast<unsigned char>(s[i + 1]) << 8;
    if (i + 2 < s.size()) chunk |= static_cast<unsigned char>(s[i + 2]);
    out += alphabet[(chunk >> 18) & 63];
    out += alphabet[(chunk >> 12) & 63];
    out += i + 1 < s.size() ? alphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < s.size() ? alphabet[chunk & 63] : '=';
  }
  return out;
}

/// `s` on one line: quotes, backslashes, control characters and bytes that
/// are not UTF-8 escaped; in double quotes when `quoted`. Null is `-`.
std::string printable(const std::optional<std::string>& s, bool quoted) {
  if (!s) return "-";
  std::string out = quoted ? "\"" : "";
  for (std::size_t i = 0; i < s->size();) {
    const auto c = static_cast<unsigned char>((*s)[i]);
    const auto n = utf8_sequence(*s, i);
    if (c == '"' || c == '\\') {
      out += '\\', out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (n == 0 || c < 0x20 || c == 0x7F) {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02X", c);
      out += hex;
    } else {
      out.append(*s, i, n);
      i += n;
      continue;
    }
    ++i;
  }
  if (quoted) out += '"';
  return out;
}

/// Adds `s` to `obj` as `name` (UTF-8 text or null) or as `name`_base64.
void put_bytes(nlohmann::ordered_json& obj, const std::string& name,
               const std::optional<std::string>& s) {
  if (!s)
    obj[name] = nullptr;
  else if (valid_utf8(*s))
    obj[name] = *s;
  else
    obj[name + "_base64"] = base64(*s);
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

std::optional<std::string_view> dlq_record::header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it)
    if (it->first == name)
      return it->second ? std::optional<std::string_view>(*it->second) : std::nullopt;
  return std::nullopt;
}

std::size_t read_dlq(const std::string& brokers, const std::string& topic, std::size_t limit,
                     std::chrono::milliseconds timeout,
                     const std::function<void(const dlq_record&)>& on_record) {
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

namespace {

/// The value's first `preview_bytes` bytes (cut at a character boundary),
/// quoted as `printable` does, and its size when cut; `-` for null.
std::string preview(const std::optional<std::string>& value) {
  if (!value || value->size() <= preview_bytes) return printable(value, true);
  auto keep = preview_bytes;
  while (keep > 0 && (static_cast<unsigned char>((*value)[keep]) & 0xC0) == 0x80) --keep;
  return printable(value->substr(0, keep), true) + "...(" + std::to_string(value->size()) +
         " bytes)";
}

}  // namespace

std::string format_dlq_line(const dlq_record& r) {
  const auto c = decode_dead_letter_headers([&r](std::string_view name) { return r.header(name); });
  auto number = [](const auto& v) { return v ? std::to_string(*v) : std::string("-"); };
  std::string out = "partition=" + std::to_string(r.partition) +
                    " offset=" + std::to_string(r.offset) + " key=" + printable(r.key, true) +
                    " value=" + preview(r.value) + " source=";
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

std::string format_dlq_json(const dlq_record& r) {
  nlohmann::ordered_json out;
  out["partition"] = r.partition;
  out["offset"] = r.offset;
  out["timestamp"] = r.timestamp_ms;
  put_bytes(out, "key", r.key);
  put_bytes(out, "value", r.value);
  auto& headers = out["headers"] = nlohmann::ordered_json::array();
  for (const auto& [name, value] : r.headers) {
    nlohmann::ordered_json h;
    put_bytes(h, "name", name);
    put_bytes(h, "value", value);
    headers.push_back(std::move(h));
  }
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
    return true;
  };
  if (!ranges.empty()) read_ranges(reader.get(), opts.dlq, ranges, opts.timeout, redrive);

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
