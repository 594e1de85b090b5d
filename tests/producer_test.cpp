// The shared producer's saturation, with no broker: records to an address
// nobody listens on stay queued until their message timeout fails them.

#include "src/kafka/producer.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace kactor::detail;

/// Counts the failed delivery reports of records produced with a token.
std::atomic<int> failed_reports{0};
void count_failures(void* token, int code, std::string_view what) {
  if (token && code != 0 && what.find("failed") != std::string_view::npos) ++failed_reports;
}

property_list unreachable(const std::string& max_messages, const std::string& max_kbytes,
                          const std::string& timeout_ms) {
  return {{"", "bootstrap.servers", "127.0.0.1:1"},
          {"", "queue.buffering.max.messages", max_messages},
          {"", "queue.buffering.max.kbytes", max_kbytes},
          {"", "message.timeout.ms", timeout_ms}};
}

TEST(producer, is_saturated_by_nine_tenths_of_the_bytes_limit_before_librdkafka_refuses) {
  // 4 KiB of values; 9/10 of it is 3686 bytes. The count limit is far away.
  shared_producer p(unreachable("100000", "4", "200"), &count_failures);
  const std::string value(1000, 'v');
  int token = 0;
  for (int i = 0; i < 3; ++i) p.produce("t", partition_id{0}, "k", value, {}, &token);
  EXPECT_FALSE(p.saturated()) << "3000 bytes queued";
  p.produce("t", partition_id{0}, "k", value, {}, nullptr);
  EXPECT_TRUE(p.saturated()) << "4000 bytes queued: an actor waits instead of blocking in emit";
  // The delivery reports (failed: nobody listens) give the bytes back.
  ASSERT_TRUE(
      test::eventually([&] { return p.delivery_failures() == 4; }, std::chrono::seconds(30)));
  EXPECT_FALSE(p.saturated()) << "every record reported: nothing queued";
  EXPECT_EQ(failed_reports.load(), 3) << "each record with a token gets its report, with the error";
}

}  // namespace
