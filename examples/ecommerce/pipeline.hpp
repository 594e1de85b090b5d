#pragma once
// The article's production architecture ("Putting It Together"): orders
// flow from `order.received` through five agents, each its own consumer
// group, to `order.completed`. No orchestrator: every step reads the topic
// the step before wrote.
//
//   order.received    -> inventory    -> inventory.checked | order.failed (out of stock)
//   inventory.checked -> fraud        -> fraud.cleared | fraud.flagged + order.failed
//                        (exactly_once: the flag and the failure commit together)
//   fraud.cleared     -> payment      -> payment.completed; a declined card is dead-lettered
//                        to payment.failed, a flaky gateway is retried with backoff
//   payment.completed -> fulfillment  -> shipment.created
//   shipment.created  -> notification -> notification.sent + order.completed
//
// Every order ends in exactly one of order.completed, order.failed and
// payment.failed (the payment agent's dead-letter topic). Used by
// examples/ecommerce (one process or one per agent) and `kactor demo`.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <kactor/kactor.hpp>

namespace ecommerce {

/// The pipeline's topics, each name prefixed (tests run several pipelines
/// on one broker).
struct topics {
  explicit topics(const std::string& prefix = {});
  std::string received, inventory_checked, fraud_cleared, fraud_flagged, payment_completed,
      payment_failed, shipment_created, notification_sent, completed, failed;
  /// Every topic, for creating them.
  std::vector<std::string> all() const;
};

/// The agents in pipeline order.
const std::vector<std::string>& agent_names();

/// An order, as its records carry it: "id|customer|sku|quantity|cents|card".
struct order {
  std::string id, customer, sku;
  int quantity = 0;
  std::int64_t cents = 0;
  std::string card;
};
std::string encode(const order& o);
/// Throws kactor::irrecoverable_error naming the record for a value that is
/// not an order: the record goes to the agent's dead-letter topic.
order decode(std::string_view value);

/// Order number `n` of a deterministic mix: mostly orders that complete,
/// some of a sold-out product, some the fraud check flags, some with a
/// declined card and some whose payment gateway fails twice before it
/// answers.
order make_order(int n);

/// How the pipeline ends an order.
enum class outcome { completed, failed, dead_lettered };
const char* to_string(outcome o);

/// How the agents run.
struct settings {
  /// Topic and group name prefix.
  std::string prefix;
  /// The fraud agent's transactions (a real broker; the embedded cluster
  /// has no transaction markers, so read_committed means nothing there).
  bool exactly_once_fraud = true;
  /// Which agents this process runs (agent_names() when empty).
  std::set<std::string> agents;
  /// The agents the runtime's configuration file defines (`agents:`):
  /// they keep its settings; the pipeline adds their topics, groups,
  /// handlers and the payment agent's dead-letter topic.
  std::vector<kactor::agent_config> configured;
};

/// Defines the chosen agents on `rt` (before its start), each in group
/// prefix + name; payment dead-letters to payment.failed. Agents not in
/// `configured` get the pipeline's settings: payment retries 3 times with
/// backoff, fraud is exactly_once when `exactly_once_fraud`.
void define(kactor::runtime& rt, const settings& s);

/// Reads the three topics where orders end and keeps each order's outcome:
/// an agent of its own ("ledger", group prefix + "ledger") on `rt`.
class ledger {
 public:
  /// Defines the agent; `rt` must outlive its run.
  ledger(kactor::runtime& rt, const std::string& prefix);
  /// Thread-safe.
  std::size_t count(outcome o) const;
  /// Orders seen, whatever their outcome.
  std::size_t orders() const;
  /// Orders seen with more than one outcome (a bug: must stay 0).
  std::size_t conflicting() const;

 private:
  void record(const std::string& order_id, outcome o);
  mutable std::mutex mx_;
  std::map<std::string, outcome> outcomes_;
  std::set<std::string> conflicts_;
};

}  // namespace ecommerce
