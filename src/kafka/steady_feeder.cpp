#include "src/kafka/steady_feeder.hpp"

#include <chrono>

namespace kactor::detail {

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

}  // namespace kactor::detail
