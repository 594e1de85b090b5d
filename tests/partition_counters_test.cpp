// What a partition actor publishes: the handler-latency histogram puts each
// observation in the bucket of its upper bound, as Prometheus reads `le`.

#include "actors/partition_counters.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using kactor::latency_histogram;
using kactor::detail::atomic_histogram;

TEST(partition_counters, an_observation_goes_to_the_first_bucket_whose_bound_it_does_not_exceed) {
  atomic_histogram h;
  h.observe(0ns);
  h.observe(10us);        // exactly the first bound: still in it
  h.observe(10us + 1ns);  // just above: the second
  h.observe(750us);       // (0.5 ms, 1 ms]
  h.observe(5s);          // the last bound
  h.observe(6s);          // above every bound
  latency_histogram out;
  h.add_to(out);
  EXPECT_EQ(out.counts[0], 2u);
  EXPECT_EQ(out.counts[1], 1u);
  EXPECT_EQ(out.counts[4], 1u);
  EXPECT_EQ(out.counts[11], 1u);
  EXPECT_EQ(out.counts[12], 1u);
  EXPECT_EQ(out.count(), 6u);
  EXPECT_NEAR(out.sum_seconds, 11.000770001, 1e-9);
}

TEST(partition_counters, histograms_of_several_partitions_add_up) {
  atomic_histogram a, b;
  a.observe(2ms);
  b.observe(2ms);
  b.observe(20ms);
  latency_histogram agent;
  a.add_to(agent);
  b.add_to(agent);
  EXPECT_EQ(agent.counts[5], 2u);  // (1 ms, 5 ms]
  EXPECT_EQ(agent.counts[7], 1u);  // (10 ms, 50 ms]
  EXPECT_EQ(agent.count(), 3u);
  latency_histogram twice = agent;
  twice += agent;
  EXPECT_EQ(twice.count(), 6u);
  EXPECT_NEAR(twice.sum_seconds, 0.048, 1e-12);
}

}  // namespace
