#include "tests/test_support.hpp"

#include "src/kafka/admin.hpp"
#include "src/kafka/producer.hpp"

#include <atomic>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

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
  property_list props{{"", "bootstrap.servers", brokers}};
  auto rk = make_client(RD_KAFKA_PRODUCER, make_conf(props));
  delete_topic_ptr dt{rd_kafka_DeleteTopic_new(topic.c_str())};
  auto ev = admin_request(rk.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, 30000, "DeleteTopics",
                          [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            auto* raw = dt.get();
                            rd_kafka_DeleteTopics(rk.get(), &raw, 1, opts, q);
                          });
  size_t n = 0;
  const auto** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i)
    if (auto err = rd_kafka_topic_result_error(results[i]))
      throw std::runtime_error("delete topic " + topic + ": " + rd_kafka_err2str(err));
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

void produce_all(const std::string& brokers, const std::string& topic,
                 const std::vector<std::pair<std::string, std::string>>& records,
                 const property_list& extra, std::int32_t partition) {
  property_list props{{"", "bootstrap.servers", brokers},
                      {"", "enable.idempotence", "true"},
                      {"", "linger.ms", "5"}};
  props.insert(props.end(), extra.begin(), extra.end());
  auto conf = make_conf(props);
  static std::atomic<long> failures{0};
  rd_kafka_conf_set_dr_msg_cb(conf.get(), [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err) failures.fetch_add(1);
  });
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  failures = 0;
  for (const auto& [k, v] : records) {
    outgoing_record r;
    r.topic = topic;
    r.partition = partition >= 0 ? partition : RD_KAFKA_PARTITION_UA;
    r.key = k;
    r.value = v;
    produce(rk.get(), r, queue_full_policy{std::chrono::seconds(60), true});
    rd_kafka_poll(rk.get(), 0);
  }
  if (rd_kafka_flush(rk.get(), 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("produce: flush timed out");
  if (failures.load() > 0) throw std::runtime_error("produce: deliveries failed");
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
    const auto err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &lo, &hi, 10000);
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

}  // namespace kactor::test

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <sstream>

namespace kactor::test {

child_process::child_process(const std::vector<std::string>& argv, const std::string& log_path,
                             const std::vector<std::string>& env) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid_ < 0) throw std::runtime_error("fork failed");
}

child_process::~child_process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
}

void child_process::signal(int sig) {
  ::kill(pid_, sig);
}

bool child_process::stopped() const {
  // /proc/<pid>/stat: "pid (comm) S ..." — the state follows the last ')'.
  auto stat = read_file("/proc/" + std::to_string(pid_) + "/stat");
  auto at = stat.rfind(')');
  return at != std::string::npos && at + 2 < stat.size() && stat[at + 2] == 'T';
}

bool child_process::running() {
  if (status_ != -1) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int child_process::wait(std::chrono::milliseconds timeout) {
  eventually([this] { return !running(); }, timeout);
  return running() ? -1 : status_;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

steady_feeder::steady_feeder(const std::string& brokers, std::string topic, int partitions,
                             std::int64_t rate, std::function<std::string(std::int64_t)> value)
    : topic_(std::move(topic)),
      partitions_(partitions),
      rk_(make_client(RD_KAFKA_PRODUCER,
                      make_conf({{"", "bootstrap.servers", brokers}, {"", "linger.ms", "1"}}))),
      rate_(rate),
      value_(std::move(value)),
      thread_([this] { run(); }) {}

steady_feeder::~steady_feeder() {
  stop_.store(true);
  thread_.join();
  rd_kafka_flush(rk_.get(), 5000);
}

void steady_feeder::run() {
  topic_ptr rkt{rd_kafka_topic_new(rk_.get(), topic_.c_str(), nullptr)};
  const double per_tick = static_cast<double>(rate_) / 1000.0;
  double owed = 0;
  std::int64_t i = 0;
  auto next = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    for (owed += per_tick; owed >= 1; owed -= 1, ++i) {
      const auto value = value_(i);
      rd_kafka_produce(rkt.get(), static_cast<std::int32_t>(i % partitions_), RD_KAFKA_MSG_F_COPY,
                       const_cast<char*>(value.data()), value.size(), nullptr, 0, nullptr);
    }
    rd_kafka_poll(rk_.get(), 0);
    next += std::chrono::milliseconds(1);
    std::this_thread::sleep_until(next);
  }
}

}  // namespace kactor::test
