#include "src/config/fields.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

#include "src/config/time.hpp"

namespace kactor::detail {
namespace {

struct managed_property {
  const char* name;
  const char* use_instead;
};
// librdkafka properties kactor sets itself; a user value would silently fight the runtime.
constexpr managed_property kManagedProperties[] = {
    {"group.id", "agents[i].group"},
    {"group.instance.id", "agents[i].group_instance_id"},
    {"partition.assignment.strategy", "agents[i].assignor"},
    {"enable.auto.commit", "commit_interval_ms"},
    {"enable.auto.offset.store", "commit_interval_ms"},
    {"auto.commit.interval.ms", "commit_interval_ms"},
    {"bootstrap.servers", "brokers"},
    {"metadata.broker.list", "brokers"},
};

constexpr std::uint64_t kUnbounded = std::numeric_limits<std::int64_t>::max();
constexpr std::uint64_t kMaxPollRecordsLimit = 1000000;
constexpr std::uint64_t kPauseAfterLimitMs = 3600000;
// librdkafka's auto.commit.interval.ms allows at most a day.
constexpr std::uint64_t kCommitIntervalLimitMs = 86400000;
constexpr std::uint64_t kRetriesLimit = 1000;  // max_retries and max_restarts
constexpr std::uint64_t kBackoffLimitMs = 3600000;
constexpr std::uint64_t kRestartWindowLimitMs = 86400000;
constexpr std::uint64_t kTransactionIntervalLimitMs = 600000;

config_error invalid_value(const std::string& key, const std::string& value,
                           const std::string& allowed) {
  return config_error(key, "invalid value '" + value + "'; allowed: " + allowed);
}

std::string range_text(std::uint64_t lo, std::uint64_t hi) {
  return hi == kUnbounded ? "integers >= " + std::to_string(lo)
                          : "integers " + std::to_string(lo) + ".." + std::to_string(hi);
}

// Plain decimal digits only: "-1" or "1e3" must not wrap around or truncate.
std::uint64_t to_uint(const std::string& text, const std::string& key, std::uint64_t lo,
                      std::uint64_t hi) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < lo || value > hi)
    throw invalid(key, text, range_text(lo, hi));
  return value;
}

// Values set in code bypass to_uint; checking their decimal text gives the same errors.
template <class Int>
void check_range(Int value, const std::string& key, std::uint64_t lo, std::uint64_t hi) {
  to_uint(std::to_string(value), key, lo, hi);
}

assignor_kind to_assignor(const std::string& text, const std::string& key) {
  std::vector<std::string> names;
  for (auto a :
       {assignor_kind::cooperative_sticky, assignor_kind::range, assignor_kind::roundrobin}) {
    if (text == to_string(a)) return a;
    names.emplace_back(to_string(a));
  }
  throw invalid(key, text, join(names));
}

supervision_policy::escalation_action to_escalation(const std::string& text,
                                                    const std::string& key) {
  using action = supervision_policy::escalation_action;
  for (auto a : {action::pause, action::leave_group, action::exit})
    if (text == to_string(a)) return a;
  throw invalid(key, text, "pause, leave_group, exit");
}

processing_guarantee to_guarantee(const std::string& text, const std::string& key) {
  for (auto g : {processing_guarantee::at_least_once, processing_guarantee::exactly_once})
    if (text == to_string(g)) return g;
  throw invalid(key, text, "at_least_once, exactly_once");
}

}  // namespace

config_error invalid(const std::string& key, const std::string& value, const std::string& allowed) {
  return invalid_value(key, value, allowed);
}

void require_known(const std::string& name, const std::string& key,
                   const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
    throw config_error(key, "unknown key; allowed: " + join(allowed));
}

std::string key_of(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

std::pair<std::string, std::string> split_first_dot(const std::string& key) {
  const auto dot = key.find('.');
  if (dot == std::string::npos) return {key, ""};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

void check_properties(const properties& props, const std::string& path) {
  for (const auto& p : kManagedProperties)
    if (props.count(p.name))
      throw config_error(path + "." + p.name,
                         std::string("managed by kactor; use ") + p.use_instead + " instead");
}

// The scalar keys of the config file, one table per struct: the YAML keys,
// the --set overrides, the range checks of `validate` (values set in code
// included) and `config_keys()` (which the README's table is tested
// against) all come from these rows.
namespace {

template <class C>
struct scalar_field {
  const char* name;
  // Numbers: the allowed range, and how the value is stored and read back.
  std::uint64_t lo = 0, hi = 0;
  void (*store)(C&, std::uint64_t) = nullptr;
  std::int64_t (*load)(const C&) = nullptr;
  // Text and named values: how the text is read (null for numbers).
  void (*read)(C&, const std::string& text, const std::string& key) = nullptr;
};

// Rows for the three kinds of members: counts, milliseconds, strings.
template <class C, std::size_t C::*M>
scalar_field<C> count(const char* name, std::uint64_t lo, std::uint64_t hi) {
  return {name,
          lo,
          hi,
          [](C& c, std::uint64_t v) { c.*M = v; },
          [](const C& c) { return static_cast<std::int64_t>(c.*M); },
          nullptr};
}
template <class C, std::chrono::milliseconds C::*M>
scalar_field<C> millis(const char* name, std::uint64_t lo, std::uint64_t hi) {
  return {name,
          lo,
          hi,
          [](C& c, std::uint64_t v) { c.*M = std::chrono::milliseconds(v); },
          [](const C& c) -> std::int64_t { return (c.*M).count(); },
          nullptr};
}
template <class C, bool C::*M>
scalar_field<C> flag(const char* name) {
  return {name, 0, 0, nullptr, nullptr, [](C& c, const std::string& t, const std::string& key) {
            if (t != "true" && t != "false") throw invalid(key, t, "true, false");
            c.*M = t == "true";
          }};
}
template <class C, std::string C::*M>
scalar_field<C> text(const char* name) {
  return {name,    0,       0,
          nullptr, nullptr, [](C& c, const std::string& t, const std::string&) { c.*M = t; }};
}

const std::vector<scalar_field<runtime_config>>& runtime_fields() {
  using C = runtime_config;
  static const std::vector<scalar_field<C>> fields{
      text<C, &C::brokers>("brokers"),
      text<C, &C::client_id>("client_id"),
      millis<C, &C::commit_interval>("commit_interval_ms", 1, kCommitIntervalLimitMs),
      count<C, &C::worker_threads>("worker_threads", 0, kUnbounded),
      text<C, &C::state_dir>("state_dir"),
      count<C, &C::state_memory_mb>("state_memory_mb", 8, 1048576),
  };
  return fields;
}

const std::vector<scalar_field<agent_config>>& agent_fields() {
  using C = agent_config;
  static const std::vector<scalar_field<C>> fields{
      text<C, &C::group>("group"),
      text<C, &C::group_instance_id>("group_instance_id"),
      {"start_from", 0, 0, nullptr, nullptr,
       [](C& c, const std::string& t, const std::string& key) {
         const auto ms = parse_time(t);
         if (!ms)
           throw invalid(key, t,
                         "ISO-8601 YYYY-MM-DDTHH:MM:SS[.fff] with Z or +HH:MM, or milliseconds "
                         "since the epoch");
         c.start_from = std::chrono::system_clock::time_point(std::chrono::milliseconds(*ms));
       }},
      count<C, &C::max_poll_records>("max_poll_records", 1, kMaxPollRecordsLimit),
      count<C, &C::resume_below>("resume_below", 0, kUnbounded),
      millis<C, &C::pause_after>("pause_after_ms", 0, kPauseAfterLimitMs),
      count<C, &C::prefetch_budget_mb>("prefetch_budget_mb", 1, 1048576),
      {"assignor", 0, 0, nullptr, nullptr,
       [](C& c, const std::string& t, const std::string& key) {
         c.assignor = to_assignor(t, key);
       }},
      {"processing_guarantee", 0, 0, nullptr, nullptr,
       [](C& c, const std::string& t, const std::string& key) {
         c.guarantee = to_guarantee(t, key);
       }},
      flag<C, &C::require_topics>("require_topics"),
      flag<C, &C::timers>("timers"),
      flag<C, &C::requests>("requests"),
      text<C, &C::reply_topic>("reply_topic"),
      millis<C, &C::transaction_interval>("transaction_interval_ms", 1,
                                          kTransactionIntervalLimitMs),
      count<C, &C::transaction_max_records>("transaction_max_records", 0, kUnbounded),
  };
  return fields;
}

const std::vector<scalar_field<supervision_policy>>& supervision_fields() {
  using C = supervision_policy;
  static const std::vector<scalar_field<C>> fields{
      count<C, &C::max_retries>("max_retries", 0, kRetriesLimit),
      millis<C, &C::backoff_base>("backoff_base_ms", 1, kBackoffLimitMs),
      millis<C, &C::backoff_max>("backoff_max_ms", 1, kBackoffLimitMs),
      text<C, &C::dlq_topic>("dlq_topic"),
      count<C, &C::max_restarts>("max_restarts", 0, kRetriesLimit),
      millis<C, &C::restart_window>("restart_window_ms", 1, kRestartWindowLimitMs),
      {"on_escalation", 0, 0, nullptr, nullptr,
       [](C& c, const std::string& t, const std::string& key) {
         c.on_escalation = to_escalation(t, key);
       }},
  };
  return fields;
}

template <class E>
E named(const std::string& text, const std::string& key, std::initializer_list<E> values) {
  std::vector<std::string> names;
  for (auto v : values) {
    if (text == to_string(v)) return v;
    names.emplace_back(to_string(v));
  }
  throw invalid(key, text, join(names));
}

const std::vector<scalar_field<metrics_config>>& metrics_fields() {
  using C = metrics_config;
  static const std::vector<scalar_field<C>> fields{text<C, &C::listen>("listen")};
  return fields;
}

const std::vector<scalar_field<log_config>>& log_fields() {
  using C = log_config;
  using L = log_level;
  static const std::vector<scalar_field<C>> fields{
      {"level", 0, 0, nullptr, nullptr,
       [](C& c, const std::string& t, const std::string& key) {
         c.level = named(t, key, {L::trace, L::debug, L::info, L::warn, L::error, L::off});
       }},
      {"format", 0, 0, nullptr, nullptr,
       [](C& c, const std::string& t, const std::string& key) {
         c.format = named(t, key, {log_format::text, log_format::json});
       }},
  };
  return fields;
}

// Sets the scalar `name` from `text` (errors name `key`); false if `C` has no such scalar.
template <class C>
bool set_scalar(const std::vector<scalar_field<C>>& fields, C& cfg, const std::string& name,
                const std::string& text, const std::string& key) {
  for (const auto& f : fields) {
    if (name != f.name) continue;
    if (f.read)
      f.read(cfg, text, key);
    else
      f.store(cfg, to_uint(text, key, f.lo, f.hi));
    return true;
  }
  return false;
}

// Every number of `cfg` within its row's range (values set in code bypass to_uint).
template <class C>
void check_ranges(const std::vector<scalar_field<C>>& fields, const C& cfg,
                  const std::string& path) {
  for (const auto& f : fields)
    if (f.load) check_range(f.load(cfg), key_of(path, f.name), f.lo, f.hi);
}

// The keys a map accepts: `before`, the table's, then `after`, in that order.
template <class C>
std::vector<std::string> keys(std::initializer_list<const char*> before,
                              const std::vector<scalar_field<C>>& fields,
                              std::initializer_list<const char*> after) {
  std::vector<std::string> out(before.begin(), before.end());
  for (const auto& f : fields) out.emplace_back(f.name);
  out.insert(out.end(), after.begin(), after.end());
  return out;
}

}  // namespace

bool set_scalar(runtime_config& cfg, const std::string& name, const std::string& text,
                const std::string& key) {
  return set_scalar(runtime_fields(), cfg, name, text, key);
}
bool set_scalar(agent_config& cfg, const std::string& name, const std::string& text,
                const std::string& key) {
  return set_scalar(agent_fields(), cfg, name, text, key);
}
bool set_scalar(supervision_policy& cfg, const std::string& name, const std::string& text,
                const std::string& key) {
  return set_scalar(supervision_fields(), cfg, name, text, key);
}
bool set_scalar(log_config& cfg, const std::string& name, const std::string& text,
                const std::string& key) {
  return set_scalar(log_fields(), cfg, name, text, key);
}

bool set_scalar(metrics_config& cfg, const std::string& name, const std::string& text,
                const std::string& key) {
  return set_scalar(metrics_fields(), cfg, name, text, key);
}

const std::vector<std::string>& runtime_keys() {
  static const auto k =
      keys({}, runtime_fields(), {"log", "metrics", "kafka", "consumer", "producer", "agents"});
  return k;
}
const std::vector<std::string>& agent_keys() {
  static const auto k =
      keys({"name", "topics", "produces", "stores"}, agent_fields(), {"kafka", "supervision"});
  return k;
}
const std::vector<std::string>& supervision_keys() {
  static const auto k = keys({}, supervision_fields(), {});
  return k;
}
const std::vector<std::string>& log_keys() {
  static const auto k = keys({}, log_fields(), {});
  return k;
}
const std::vector<std::string>& metrics_keys() {
  static const auto k = keys({}, metrics_fields(), {});
  return k;
}
const std::vector<std::string>& override_keys() {
  static const auto k =
      keys({}, runtime_fields(),
           {"log.level", "log.format", "metrics.listen", "kafka.<property>", "consumer.<property>",
            "producer.<property>", "agents.<name>.<field>"});
  return k;
}
const std::vector<std::string>& agent_override_keys() {
  static const auto k = keys({"topics", "produces", "stores"}, agent_fields(),
                             {"kafka.<property>", "supervision.<key>"});
  return k;
}

properties* property_map(runtime_config& cfg, const std::string& name) {
  if (name == "kafka") return &cfg.kafka;
  if (name == "consumer") return &cfg.consumer;
  if (name == "producer") return &cfg.producer;
  return nullptr;
}

void check_ranges(const runtime_config& cfg, const std::string& path) {
  check_ranges(runtime_fields(), cfg, path);
}
void check_ranges(const agent_config& cfg, const std::string& path) {
  check_ranges(agent_fields(), cfg, path);
}
void check_ranges(const supervision_policy& cfg, const std::string& path) {
  check_ranges(supervision_fields(), cfg, path);
}

}  // namespace kactor::detail

namespace kactor {

using namespace detail;

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (const auto& f : runtime_fields()) out.emplace_back(f.name);
  for (const auto& f : log_fields()) out.push_back(std::string("log.") + f.name);
  for (const auto& f : metrics_fields()) out.push_back(std::string("metrics.") + f.name);
  for (const char* map : {"kafka", "consumer", "producer"})
    out.push_back(std::string(map) + ".<property>");
  for (const char* k : {"name", "topics", "produces", "stores"})
    out.push_back(std::string("agents[].") + k);
  for (const auto& f : agent_fields()) out.push_back(std::string("agents[].") + f.name);
  out.emplace_back("agents[].kafka.<property>");
  for (const auto& f : supervision_fields())
    out.push_back(std::string("agents[].supervision.") + f.name);
  return out;
}

}  // namespace kactor
