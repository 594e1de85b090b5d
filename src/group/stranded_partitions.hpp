#pragma once
// Partitions a cooperative group leaves to no one, and a way out.
//
// A cooperative rebalance moves a partition in two steps: the current owner
// is assigned its share without it, revokes it and rejoins; the rebalance
// that rejoin starts gives it to another member. A static member
// (`group.instance.id`) that dies between the two steps and is restarted
// within its session rejoins a Stable group: the coordinator hands it the
// assignment stored for it, without the revoked partitions, and starts no
// rebalance (Kafka's GroupCoordinator, updateStaticMemberAndRebalance). The
// new process owned nothing, so it does not rejoin either, and the revoked
// partitions belong to no member until some other event rebalances the
// group. librdkafka 2.0.2 has no call that makes a member rejoin (the Java
// client's enforceRebalance), so kactor joins the group with a member of its
// own for as long as it takes to start a rebalance, in which the leader
// assigns them (docs/design.md, "Stranded partitions").

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/kafka/consumer_protocol.hpp"
#include "src/kafka/handles.hpp"

namespace kactor::detail {

/// The partitions of `topics` (name to partition count) that a Stable
/// `group` leaves to no member: in no member's assignment, and in no
/// member's owned partitions (a member still revoking them names them until
/// its rejoin starts the next rebalance). Empty unless the group is Stable.
std::vector<topic_partition> stranded_partitions(const group_members& group,
                                                 const std::map<std::string, int>& topics);

/// Watches a static member's group once, from its first assignment, on a
/// thread of its own: while the group rebalances it waits; once the group is
/// Stable it looks for stranded partitions and, if there are any, forces a
/// rebalance (up to three times) and looks again. It gives up after two
/// minutes, or when the group cannot be described.
class stranded_partition_watch {
 public:
  /// `props`: the agent's consumer properties with `group.id` and
  /// `partition.assignment.strategy`, without `group.instance.id`;
  /// `topics`: what the group's members subscribe to.
  stranded_partition_watch(std::string agent, std::string group, property_list props,
                           std::vector<std::string> topics);
  /// Asks the watch to end without waiting for it: a member of its own
  /// that joined leaves the group first. Any thread.
  void request_stop();
  /// Stops the watch and joins its thread.
  ~stranded_partition_watch();
  stranded_partition_watch(const stranded_partition_watch&) = delete;
  stranded_partition_watch& operator=(const stranded_partition_watch&) = delete;

 private:
  void run();
  /// Joins the group as a dynamic member subscribed to `topics_`, waits
  /// until it is given its share (the rebalance happened) and leaves.
  void force_rebalance();
  /// Waits `d` unless stopped; whether still running.
  bool pause(std::chrono::milliseconds d);

  std::string agent_, group_;
  property_list props_;
  std::vector<std::string> topics_;
  std::mutex mx_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kactor::detail
