#include "tests/test_support.hpp"

#include "src/kafka/admin.hpp"
#include "src/kafka/producer.hpp"

#include <malloc.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kactor::test {

using namespace kactor::detail;

bool group_caught_up(const std::string& brokers, const std::string& group, const std::string& topic,
                     const std::set<int>& partitions) {
  try {
    std::size_t done = 0;
    for (const auto& p : query_group_lag(brokers, group, std::chrono::seconds(5)).partitions)
      if (p.topic == topic && partitions.count(p.partition) && p.committed >= 0 && p.lag == 0)
        ++done;
    return !partitions.empty() && done == partitions.size();
  } catch (const std::exception&) {
    return false;
  }
}

bool group_caught_up(const std::string& brokers, const std::string& group, const std::string& topic,
                     int partitions) {
  std::set<int> all;
  for (int p = 0; p < partitions; ++p) all.insert(p);
  return group_caught_up(brokers, group, topic, all);
}

void create_topic(const std::string& brokers, const std::string& topic, int partitions,
                  const std::map<std::string, std::string>& configs) {
  property_list props{{"", "bootstrap.servers", brokers}};
  auto rk = make_client(RD_KAFKA_PRODUCER, make_conf(props));
  create_topics(rk.get(), {{topic, partitions}}, 30000, configs);
}

void delete_topic(const std::string& brokers, const std::string& topic) {
  auto rk = make_client(RD_KAFKA_PRODUCER, make_conf({{"", "bootstrap.servers", brokers}}));
  delete_topics(rk.get(), {topic});
}

void add_partitions(const std::string& brokers, const std::string& topic, int total) {
  auto rk = make_client(RD_KAFKA_PRODUCER, make_conf({{"", "bootstrap.servers", brokers}}));
  char errstr[256];
  const std::unique_ptr<rd_kafka_NewPartitions_t, void (*)(rd_kafka_NewPartitions_t*)> grow{
      rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), errstr, sizeof(errstr)),
      &rd_kafka_NewPartitions_destroy};
  if (!grow) throw std::runtime_error("partitions of " + topic + ": " + errstr);
  auto* raw = grow.get();
  auto ev = admin_request(rk.get(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, 30000, "CreatePartitions",
                          [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            rd_kafka_CreatePartitions(rk.get(), &raw, 1, opts, q);
                          });
  size_t n = 0;
  const auto** results =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i)
    if (auto err = rd_kafka_topic_result_error(results[i]))
      throw std::runtime_error("partitions of " + topic + ": " + rd_kafka_err2str(err));
}

void deny_writes(const std::string& brokers, const std::string& topic) {
  property_list props{{"", "bootstrap.servers", brokers}};
  auto rk = make_client(RD_KAFKA_PRODUCER, make_conf(props));
  // A topic with an ACL is no longer "no ACL found": allow what clients
  // need to see it (metadata), deny the writes.
  char errstr[256];
  std::vector<acl_binding_ptr> owned;
  std::vector<rd_kafka_AclBinding_t*> acls;
  for (auto [op, permission] :
       {std::pair{RD_KAFKA_ACL_OPERATION_DESCRIBE, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW},
        std::pair{RD_KAFKA_ACL_OPERATION_WRITE, RD_KAFKA_ACL_PERMISSION_TYPE_DENY}}) {
    acl_binding_ptr acl{rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str(),
                                                RD_KAFKA_RESOURCE_PATTERN_LITERAL, "User:ANONYMOUS",
                                                "*", op, permission, errstr, sizeof(errstr))};
    if (!acl) throw std::runtime_error(std::string("ACL for ") + topic + ": " + errstr);
    acls.push_back(acl.get());
    owned.push_back(std::move(acl));
  }
  auto ev = admin_request(rk.get(), RD_KAFKA_ADMIN_OP_CREATEACLS, 30000, "CreateAcls",
                          [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            rd_kafka_CreateAcls(rk.get(), acls.data(), acls.size(), opts, q);
                          });
  size_t n = 0;
  const auto** results =
      rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i)
    if (const auto* err = rd_kafka_acl_result_error(results[i]))
      throw std::runtime_error("ACL for " + topic + ": " + rd_kafka_error_string(err));
  // The broker applies the ACL from the metadata log, a moment after the answer.
  const bool refused = eventually([&] {
    try {
      produce_all(brokers, topic, {{"probe", "deny_writes"}});
      return false;
    } catch (const std::exception&) {
      return true;
    }
  });
  if (!refused) throw std::runtime_error("writes to " + topic + " are still allowed");
}

producer::producer(const std::string& brokers, const property_list& extra) {
  property_list props{{"", "bootstrap.servers", brokers},
                      {"", "enable.idempotence", "true"},
                      {"", "linger.ms", "5"}};
  props.insert(props.end(), extra.begin(), extra.end());
  auto conf = make_conf(props);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &producer::on_delivery);
  rk_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

void producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err) static_cast<producer*>(opaque)->failures_.fetch_add(1);
}

void producer::produce_all(const std::string& topic,
                           const std::vector<std::pair<std::string, std::string>>& records,
                           std::int32_t partition) {
  failures_ = 0;
  for (const auto& [k, v] : records) {
    outgoing_record r;
    r.topic = topic;
    r.partition = partition >= 0 ? partition : RD_KAFKA_PARTITION_UA;
    r.key = k;
    r.value = v;
    produce(rk_.get(), r, queue_full_policy{std::chrono::seconds(60), true});
    rd_kafka_poll(rk_.get(), 0);
  }
  if (rd_kafka_flush(rk_.get(), 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("produce: flush timed out");
  if (failures_.load() > 0) throw std::runtime_error("produce: deliveries failed");
}

void produce_all(const std::string& brokers, const std::string& topic,
                 const std::vector<std::pair<std::string, std::string>>& records,
                 const property_list& extra, std::int32_t partition) {
  producer(brokers, extra).produce_all(topic, records, partition);
}

std::vector<std::pair<std::string, std::string>> sequenced(int records, int keys) {
  std::vector<std::pair<std::string, std::string>> out;
  std::map<int, int> seq;
  for (int i = 0; i < records; ++i) {
    int k = (i * 7919) % keys;
    out.emplace_back("key-" + std::to_string(k),
                     std::to_string(k) + ":" + std::to_string(seq[k]++));
  }
  return out;
}

void expect_matches_oracle(const std::vector<std::pair<std::string, std::string>>& input,
                           const std::vector<record>& output) {
  std::map<std::string, std::vector<std::string>> want, got;
  for (auto& [k, v] : input) want[k].push_back(v);
  for (auto& r : output) got[r.key].push_back(r.value);
  if (output.size() != input.size()) {
    // Say where it went wrong: the first repeated and the first missing value.
    std::map<std::pair<std::string, std::string>, const record*> seen;
    std::string repeated, missing;
    for (auto& r : output) {
      auto [it, fresh] = seen.emplace(std::make_pair(r.key, r.value), &r);
      if (!fresh && repeated.empty())
        repeated = r.value + " at " + std::to_string(it->second->partition) + "@" +
                   std::to_string(it->second->offset) + " and " + std::to_string(r.partition) +
                   "@" + std::to_string(r.offset);
    }
    for (auto& kv : input)
      if (missing.empty() && !seen.count(kv)) missing = kv.second;
    FAIL() << "no duplicates, no gaps: " << output.size() << " outputs for " << input.size()
           << " inputs; first repeated: " << (repeated.empty() ? "none" : repeated)
           << "; first missing: " << (missing.empty() ? "none" : missing);
  }
  for (auto& [k, values] : want) EXPECT_EQ(got[k], values) << "key " << k;
}

std::vector<std::int64_t> end_offsets(const std::string& brokers, const std::string& topic,
                                      const std::string& isolation) {
  property_list props{{"", "bootstrap.servers", brokers},
                      {"", "group.id", "kactor-test-ends"},
                      {"", "isolation.level", isolation}};
  auto rk = make_client(RD_KAFKA_CONSUMER, make_conf(props));
  const rd_kafka_metadata_t* raw = nullptr;
  topic_ptr rkt{rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr)};
  if (rd_kafka_metadata(rk.get(), 0, rkt.get(), &raw, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("end_offsets: metadata for " + topic);
  const metadata_ptr md{raw};
  const int parts = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
  std::vector<std::int64_t> ends;
  for (int p = 0; p < parts; ++p) {
    std::int64_t lo = 0, hi = 0;
    // A partition created moments before may have no leader yet (NOT_LEADER,
    // LEADER_NOT_AVAILABLE): asked again until it answers, within 30 s.
    auto err = RD_KAFKA_RESP_ERR_NO_ERROR;
    eventually(
        [&] {
          err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &lo, &hi, 10000);
          return !err || classify_kafka_error(err) != error_class::retriable;
        },
        std::chrono::seconds(30));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("end_offsets: " + topic + ": " + rd_kafka_err2str(err));
    ends.push_back(hi);
  }
  return ends;
}

bool transactions_settled(const std::string& brokers, const std::string& topic) {
  return end_offsets(brokers, topic, "read_committed") ==
         end_offsets(brokers, topic, "read_uncommitted");
}

std::vector<record> read_all(const std::string& brokers, const std::string& topic,
                             std::chrono::milliseconds timeout, const std::string& isolation) {
  property_list props{{"", "bootstrap.servers", brokers},
                      {"", "group.id", "kactor-test-reader"},
                      {"", "enable.auto.commit", "false"},
                      {"", "isolation.level", isolation}};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (isolation == "read_committed" &&
      !eventually([&] { return transactions_settled(brokers, topic); }, timeout))
    throw std::runtime_error("read_all: a transaction stays open in " + topic);
  const auto last = end_offsets(brokers, topic, isolation);
  auto rk = make_client(RD_KAFKA_CONSUMER, make_conf(props));
  auto tpl = make_tpl(static_cast<int>(last.size()));
  std::map<int, std::int64_t> ends;
  for (int p = 0; p < static_cast<int>(last.size()); ++p) {
    if (last[p] == 0) continue;
    ends[p] = last[p];
    rd_kafka_topic_partition_list_add(tpl.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  std::vector<record> out;
  if (ends.empty()) return out;
  rd_kafka_assign(rk.get(), tpl.get());
  // The position, not the last offset seen, tells when a partition is read:
  // transaction markers occupy offsets no record is returned for.
  auto done = [&] {
    auto positions = make_tpl(static_cast<int>(ends.size()));
    for (auto& [p, end] : ends)
      rd_kafka_topic_partition_list_add(positions.get(), topic.c_str(), p);
    rd_kafka_position(rk.get(), positions.get());
    for (int i = 0; i < positions->cnt; ++i)
      if (positions->elems[i].offset < ends[positions->elems[i].partition]) return false;
    return true;
  };
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    message_ptr m{rd_kafka_consumer_poll(rk.get(), 100)};
    if (!m || m->err) continue;
    record r;
    if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* val;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; ++i)
        r.headers[name] = std::string(static_cast<const char*>(val), val ? size : 0);
    }
    out.push_back(std::move(r));
  }
  const bool complete = done();
  rd_kafka_consumer_close(rk.get());
  if (!complete) throw std::runtime_error("read_all: timed out reading " + topic);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double rss_mb(const char* field, int pid) {
  std::istringstream status(
      read_file("/proc/" + (pid ? std::to_string(pid) : std::string("self")) + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(line.find(':') + 1)) / 1024.0;
  return std::nan("");
}

void reset_peak_rss() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

rendered_svg render_svg(const std::string& svg_path) {
  const auto html_path = svg_path + ".html";
  {
    std::ofstream html(html_path, std::ios::trunc);
    html << "<!doctype html><html><body>" << read_file(svg_path) << R"(<pre id="result"></pre>
<script>
const svg = document.querySelector('svg');
const r = {lanes: 0, lanes_drawn: 0, marks: {}, fills: {}, marks_drawn: 0, marks_in_lane: 0,
           marks_on_top: 0, events: []};
const lanes = [...svg.querySelectorAll('g.lane')].map(l => l.getBoundingClientRect());
r.lanes = lanes.length;
r.lanes_drawn = lanes.filter(b => b.width >= 100 && b.height >= 5).length;
for (const g of svg.querySelectorAll('g.member')) {
  const recs = [...g.querySelectorAll('rect.rec')];
  r.marks[g.dataset.member] = recs.length;
  if (recs.length) r.fills[g.dataset.member] = getComputedStyle(recs[0]).fill;
  for (const m of recs) {
    const b = m.getBoundingClientRect();
    if (b.width <= 0 || b.height <= 0) continue;
    r.marks_drawn++;
    const cx = b.left + b.width / 2, cy = b.top + b.height / 2;
    if (lanes.some(l => cx >= l.left && cx <= l.right && b.top >= l.top && b.bottom <= l.bottom))
      r.marks_in_lane++;
    const hit = document.elementFromPoint(cx, cy);
    if (hit && hit.matches('rect.rec')) r.marks_on_top++;
  }
}
r.events = [...svg.querySelectorAll('g.event text')].map(t => t.textContent);
document.getElementById('result').textContent = JSON.stringify(r);
</script></body></html>)";
  }
  // The page is as wide as the picture, so every mark is in the viewport.
  const std::string cmd =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --window-size=1400,2000 "
      "--dump-dom 'file://" +
      html_path + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), &pclose);
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::string dom;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof(buf), pipe.get())) dom.append(buf, n);
  const int status = pclose(pipe.release());
  const auto from = dom.find("<pre id=\"result\">");
  const auto to = dom.find("</pre>", from);
  if (status != 0 || from == std::string::npos || to == std::string::npos)
    throw std::runtime_error("headless Chromium did not render " + svg_path + " (" + cmd +
                             ", status " + std::to_string(status) + ")");
  const auto j = nlohmann::json::parse(dom.substr(from + 17, to - from - 17));
  rendered_svg out;
  out.lanes = j.at("lanes");
  out.lanes_drawn = j.at("lanes_drawn");
  out.marks = j.at("marks").get<std::map<std::string, int>>();
  out.fills = j.at("fills").get<std::map<std::string, std::string>>();
  out.marks_drawn = j.at("marks_drawn");
  out.marks_in_lane = j.at("marks_in_lane");
  out.marks_on_top = j.at("marks_on_top");
  out.events = j.at("events").get<std::vector<std::string>>();
  return out;
}

std::string binary_dir() {
  char buf[4096];
  auto n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<std::size_t>(n));
  return p.substr(0, p.rfind('/'));
}

transaction_view describe_transaction(const std::string& transactional_id) {
  const std::string cmd = std::string(std::getenv("KACTOR_KAFKA_SCRIPT")) + " transaction " +
                          std::getenv("KACTOR_KAFKA_DIR") + " '" + transactional_id + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), &pclose);
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof(buf), pipe.get())) out.append(buf, n);
  if (pclose(pipe.release()) != 0 || out.empty()) throw std::runtime_error(cmd + " failed: " + out);
  std::istringstream line(out);
  transaction_view view;
  std::string parts;
  line >> view.state >> parts;
  std::istringstream list(parts == "-" ? std::string() : parts);
  for (std::string p; std::getline(list, p, ',');) view.partitions.push_back(p);
  return view;
}

}  // namespace kactor::test
