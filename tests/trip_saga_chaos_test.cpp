// examples/trip_saga on the real broker, exactly_once, with 20 % of hotels
// failing and each of its two processes (the participants; the trip saga)
// SIGKILLed once mid-run: an independent reader of the topics finds every
// trip completed or rolled back, none half-done, and every rolled-back
// trip's flight cancelled.

#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/cli/child_process.hpp"
#include "src/cli/trace_tool.hpp"
#include "tests/temp_dir.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace kactor;
using namespace std::chrono_literals;

constexpr int kPartitions = 4, kTrips = 400;

TEST(trip_saga_chaos, every_trip_completes_or_rolls_back_through_two_sigkills) {
  const auto brokers = test::kafka_bootstrap();
  ASSERT_FALSE(brokers.empty());
  const auto prefix = test::unique_name("trips") + ".";
  const auto dir = test::binary_dir();
  test::temp_dir state;
  for (const char* t : {"trip.requested", "flight.booked", "flight.cancel", "flight.cancelled",
                        "hotel.booked", "hotel.failed", "hotel.cancel", "hotel.cancelled",
                        "car.booked", "trip.booking.completed", "trip.booking.failed"})
    test::create_topic(brokers, prefix + t, kPartitions);
  std::map<std::string, int> starts;
  auto process = [&](const std::string& agents) {
    const auto name = agents.substr(0, agents.find(','));
    std::vector<std::string> argv{std::getenv("KACTOR_TRIP_SAGA_EXE"),
                                  "--brokers",
                                  brokers,
                                  "--prefix",
                                  prefix,
                                  "--agents",
                                  agents,
                                  "--exactly-once",
                                  "--hotel-failure-rate",
                                  "0.2",
                                  "--partitions",
                                  std::to_string(kPartitions),
                                  "--set",
                                  "state_dir=" + state.path + "/" + name,
                                  "--set",
                                  "consumer.session.timeout.ms=6000",
                                  "--set",
                                  "consumer.heartbeat.interval.ms=500"};
    const auto log = dir + "/" + prefix + name + "." + std::to_string(++starts[name]) + ".log";
    return std::make_unique<test::child_process>(argv, log);
  };
  auto outcomes = [&](const std::string& isolation) {
    std::map<std::string, std::vector<std::string>> by_trip;
    for (const char* t : {"trip.booking.completed", "trip.booking.failed"})
      for (auto& r : test::read_all(brokers, prefix + t, 120s, isolation))
        by_trip[r.key].push_back(std::string(t) + ":" + r.value);
    return by_trip;
  };
  auto participants = process("flight,hotel,car");
  auto saga = process("trip");
  std::vector<std::pair<std::string, std::string>> trips;
  for (int i = 0; i < kTrips; ++i)
    trips.emplace_back("trip-" + std::to_string(i), "to city " + std::to_string(i % 7));
  test::produce_all(brokers, prefix + "trip.requested", trips);

  ASSERT_TRUE(test::eventually([&] { return outcomes("read_uncommitted").size() >= 50; }, 180s));
  participants->signal(SIGKILL);
  participants->wait(30s);
  participants = process("flight,hotel,car");
  ASSERT_TRUE(test::eventually([&] { return outcomes("read_uncommitted").size() >= 150; }, 180s));
  saga->signal(SIGKILL);
  saga->wait(30s);
  saga = process("trip");
  ASSERT_TRUE(test::eventually(
      [&] { return outcomes("read_uncommitted").size() == static_cast<std::size_t>(kTrips); },
      180s));

  // The verdict, at read_committed, from the topics alone.
  const auto ended = outcomes("read_committed");
  auto keys = [&](const char* topic) {
    std::map<std::string, int> n;
    for (const auto& r : test::read_all(brokers, prefix + topic, 120s)) ++n[r.key];
    return n;
  };
  const auto flights = keys("flight.booked"), cancelled = keys("flight.cancelled"),
             hotels = keys("hotel.booked"), cars = keys("car.booked"),
             refused = keys("hotel.failed");
  ASSERT_EQ(ended.size(), static_cast<std::size_t>(kTrips));
  int completed = 0, rolled_back = 0;
  for (const auto& [trip, values] : ended) {
    ASSERT_EQ(values.size(), 1u) << trip << ": one outcome per trip";
    if (values[0] == "trip.booking.completed:status=completed") {
      ++completed;
      EXPECT_TRUE(flights.count(trip) && hotels.count(trip) && cars.count(trip)) << trip;
      EXPECT_FALSE(cancelled.count(trip)) << trip << " completed with its flight cancelled";
    } else {
      ++rolled_back;
      EXPECT_EQ(values[0].rfind("trip.booking.failed:status=rolled_back", 0), 0u) << values[0];
      EXPECT_TRUE(refused.count(trip)) << trip << " rolled back, but its hotel did not fail";
      if (flights.count(trip)) EXPECT_EQ(cancelled.count(trip), 1u) << trip << ": flight kept";
      EXPECT_FALSE(cars.count(trip)) << trip;
    }
  }
  // Each participant's output once per trip (exactly_once through the kills).
  for (const auto* m : {&flights, &hotels, &cars, &refused, &cancelled})
    for (const auto& [trip, n] : *m) EXPECT_EQ(n, 1) << trip;
  std::printf("trips: %d completed, %d rolled back\n", completed, rolled_back);

  // `kactor trace` tells one trip's story across the topics, in order (each
  // step was emitted after the one before was committed and read).
  auto story = [&](const std::string& trip) {
    detail::trace_options o;
    o.brokers = brokers;
    o.topics = prefix + "(trip|flight|hotel|car)\\..*";
    o.key = trip;
    std::ostringstream out, err;
    EXPECT_EQ(detail::run_trace(o, out, err), 0) << err.str();
    std::vector<std::string> topics;
    std::istringstream lines(out.str());
    for (std::string time, at, rest; lines >> time >> at && std::getline(lines, rest);)
      topics.push_back(at.substr(prefix.size(), at.find('/') - prefix.size()));
    return topics;
  };
  std::string a_completed, a_rolled_back;
  for (const auto& [trip, values] : ended)
    (values[0] == "trip.booking.completed:status=completed" ? a_completed : a_rolled_back) = trip;
  EXPECT_EQ(story(a_completed),
            (std::vector<std::string>{"trip.requested", "flight.booked", "hotel.booked",
                                      "car.booked", "trip.booking.completed"}))
      << a_completed;
  EXPECT_EQ(story(a_rolled_back),
            (std::vector<std::string>{"trip.requested", "flight.booked", "hotel.failed",
                                      "flight.cancel", "flight.cancelled", "trip.booking.failed"}))
      << a_rolled_back;
  EXPECT_GT(rolled_back, 0);
  EXPECT_GT(completed, 0);
  participants->signal(SIGTERM);
  saga->signal(SIGTERM);
  EXPECT_EQ(participants->wait(60s), 0);
  EXPECT_EQ(saga->wait(60s), 0);
}

}  // namespace
