#pragma once
// The partition actor's test fixture on CAF's deterministic test scheduler:
// a fake source stands in for the partition's librdkafka queue and a fake
// sink for the producer, so every step is checked with no broker and no
// sleeps. Shared by partition_actor_test and partition_actor_failures_test.

#include "actors/partition_actor.hpp"
#include "tests/test_scheduler.hpp"

#include <chrono>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <caf/all.hpp>

namespace kactor::test {

using namespace kactor::detail;

class fake_source final : public partition_source {
 public:
  explicit fake_source(int records) {
    for (int i = 0; i < records; ++i) {
      keys.push_back("k" + std::to_string(i));
      values.push_back("v" + std::to_string(i));
    }
  }

  std::size_t take(std::size_t max, std::deque<record_slot>& out) override {
    if (paused) return 0;
    std::size_t n = 0;
    for (; n < max && next < static_cast<int>(keys.size()) + static_cast<int>(extra.size()); ++n) {
      auto off = next < static_cast<int>(keys.size()) ? next : extra[next - keys.size()];
      auto idx = static_cast<std::size_t>(off);
      out.push_back(record_slot{
          event{"in", partition_id{0}, kactor::offset{off}, 0, keys[idx], values[idx]}});
      ++next;
    }
    return n;
  }
  bool has_backlog() override {
    return next < static_cast<int>(keys.size()) + static_cast<int>(extra.size());
  }
  void pause() override {
    paused = true;
    ++pauses;
  }
  void resume() override {
    paused = false;
    ++resumes;
  }
  void store(std::uint32_t, kactor::offset next_offset) override {
    stored.push_back(next_offset.value());
  }
  void rewind(std::uint32_t, kactor::offset to) override {
    rewinds.push_back(to.value());
    next = static_cast<int>(to.value());
    paused = false;
  }

  std::vector<std::string> keys, values;
  std::vector<std::int64_t> extra;  // offsets handed out again after the log's end
  int next = 0;
  bool paused = false;
  int pauses = 0, resumes = 0;
  std::vector<std::int64_t> stored;
  std::vector<std::int64_t> rewinds;
};

class fake_sink final : public emit_sink {
 public:
  void emit(std::string_view topic, partition_id, std::string_view key, std::string_view value,
            const headers& hdrs, delivery_tracker::entry* token) override {
    if (refuse > 0) {
      --refuse;
      throw kafka_exception(error_info{classify_kafka_error(refuse_code), refuse_code, "refused"});
    }
    sent.push_back({std::string(topic), std::string(key), std::string(value), hdrs});
    tokens.push_back(token);
  }
  bool saturated() const override { return full; }
  void when_room(std::function<void()> wake) override {
    if (full)
      room_waiters.push_back(std::move(wake));
    else
      wake();
  }
  /// The queue drains: what the producer's delivery reports would do.
  void make_room() {
    full = false;
    auto waiters = std::move(room_waiters);
    room_waiters.clear();
    for (auto& w : waiters) w();
  }
  struct sent_record {
    std::string topic, key, value;
    headers hdrs;
    std::string header(std::string_view name) const {
      for (const auto& h : hdrs)
        if (h.key == name) return h.value;
      return "<missing>";
    }
  };
  std::vector<sent_record> sent;
  std::vector<delivery_tracker::entry*> tokens;
  int refuse = 0;                                          // refuse this many emits at once
  int refuse_code = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;  // with this librdkafka error
  bool full = false;                                       // the producer's queue is nearly full
  std::vector<std::function<void()>> room_waiters;         // when_room's, while full
};

struct fixture : ::testing::Test, test_scheduler {
  std::shared_ptr<fake_source> source;
  fake_sink sink;
  std::shared_ptr<partition_counters> counters = std::make_shared<partition_counters>();
  std::vector<std::int64_t> handled;
  supervision_policy policy;
  std::chrono::milliseconds pause_after{0};
  /// The actor's byte share (null: bounded by count alone).
  const std::atomic<std::size_t>* in_flight_share = nullptr;
  dead_letter_actor dead_letters;
  /// Shared by the actors spawned, as by one partition's successive actors.
  std::shared_ptr<poison_map> poison = std::make_shared<poison_map>();

  fixture() {
    policy.max_retries = 3;
    policy.backoff_base = std::chrono::milliseconds(100);
    policy.backoff_max = std::chrono::milliseconds(1000);
    dead_letters = spawn_dead_letter_actor(*sys, "test.dlq", sink);
    sched->run();  // let it initialise, so step() runs the partition actor
  }

  ~fixture() override {
    ack_all(false);  // what librdkafka would report for records still in flight
    caf::anon_send_exit(dead_letters, caf::exit_reason::user_shutdown);
    sched->run();
  }

  /// Acknowledges (or fails, as librdkafka does when a record times out)
  /// the i-th emit handed to the sink.
  void ack(std::size_t i, bool ok) { fail(i, ok ? 0 : RD_KAFKA_RESP_ERR__MSG_TIMED_OUT); }

  /// Reports the i-th emit with librdkafka error `code` (0: acknowledged).
  void fail(std::size_t i, int code) {
    delivery_tracker::delivered(std::exchange(sink.tokens.at(i), nullptr), code, "test");
  }

  /// Acknowledges (or times out) every emit handed to the sink so far.
  void ack_all(bool ok = true) {
    for (auto*& t : sink.tokens)
      if (t)
        delivery_tracker::delivered(std::exchange(t, nullptr),
                                    ok ? 0 : RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "test");
    sched->run();
  }

  caf::actor spawn(int records, std::size_t capacity, std::size_t resume_below,
                   behavior_factory f = {}, std::chrono::microseconds slice = {}) {
    source = std::make_shared<fake_source>(records);
    partition_actor_config pc;
    pc.agent = "test";
    pc.inputs = {{topic_partition{"in", partition_id{0}}, counters, poison}};
    pc.max_poll_records = capacity;
    pc.resume_below = resume_below;
    pc.pause_after = pause_after;
    pc.in_flight_share = in_flight_share;
    pc.factory = f ? std::move(f) : [this](context&) -> caf::behavior {
      return {[this](const event& e) { handled.push_back(e.offset().value()); }};
    };
    pc.source = source;
    pc.sink = &sink;
    pc.slice = slice;
    pc.policy = policy;
    pc.dead_letters = dead_letters;
    return spawn_partition_actor(*sys, std::move(pc));
  }

  /// Runs one message of the (only) actor.
  void step() { sched->run_once(); }
};

}  // namespace kactor::test
