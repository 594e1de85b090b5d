#include "ecommerce/pipeline.hpp"

#include <stdexcept>

namespace ecommerce {

topics::topics(const std::string& prefix)
    : received(prefix + "order.received"),
      inventory_checked(prefix + "inventory.checked"),
      fraud_cleared(prefix + "fraud.cleared"),
      fraud_flagged(prefix + "fraud.flagged"),
      payment_completed(prefix + "payment.completed"),
      payment_failed(prefix + "payment.failed"),
      shipment_created(prefix + "shipment.created"),
      notification_sent(prefix + "notification.sent"),
      completed(prefix + "order.completed"),
      failed(prefix + "order.failed") {}

std::vector<std::string> topics::all() const {
  return {received,       inventory_checked, fraud_cleared,     fraud_flagged, payment_completed,
          payment_failed, shipment_created,  notification_sent, completed,     failed};
}

const std::vector<std::string>& agent_names() {
  static const std::vector<std::string> names{"inventory", "fraud", "payment", "fulfillment",
                                              "notification"};
  return names;
}

std::string encode(const order& o) {
  return o.id + '|' + o.customer + '|' + o.sku + '|' + std::to_string(o.quantity) + '|' +
         std::to_string(o.cents) + '|' + o.card;
}

order decode(std::string_view value) {
  std::vector<std::string> fields;
  std::size_t from = 0;
  for (;;) {
    const auto bar = value.find('|', from);
    fields.emplace_back(value.substr(from, bar - from));
    if (bar == std::string_view::npos) break;
    from = bar + 1;
  }
  const auto bad = [&] {
    return kactor::irrecoverable_error("not an order (id|customer|sku|quantity|cents|card): '" +
                                       std::string(value.substr(0, 200)) + "'");
  };
  if (fields.size() != 6 || fields[0].empty()) throw bad();
  order o{fields[0], fields[1], fields[2], 0, 0, fields[5]};
  try {
    o.quantity = std::stoi(fields[3]);
    o.cents = std::stoll(fields[4]);
  } catch (const std::logic_error&) {
    throw bad();
  }
  return o;
}

order make_order(int n) {
  order o;
  o.id = "order-" + std::to_string(n);
  o.customer = "customer-" + std::to_string(n % 41);
  o.sku = n % 23 == 5 ? "sku-sold-out" : "sku-" + std::to_string(n % 7);
  o.quantity = 1 + n % 3;
  o.cents = 1999 + (static_cast<std::int64_t>(n) * 7919) % 50000;
  o.card = n % 29 == 3 ? "declined" : n % 13 == 4 ? "flaky" : n % 11 == 6 ? "prepaid" : "visa";
  return o;
}

const char* to_string(outcome o) {
  switch (o) {
    case outcome::completed:
      return "completed";
    case outcome::failed:
      return "failed";
    case outcome::dead_lettered:
      return "dead-lettered";
  }
  return "?";
}

namespace {

/// A payment gateway that times out on an order's first two calls for a
/// "flaky" card (retriable: the agent retries with backoff) and declines a
/// "declined" card (irrecoverable: dead-lettered at once).
class payment_gateway {
 public:
  void charge(const order& o) {
    if (o.card == "declined") throw kactor::irrecoverable_error("card declined for " + o.id);
    if (o.card != "flaky") return;
    std::lock_guard lock(mx_);
    if (calls_[o.id]++ < 2) throw std::runtime_error("payment gateway timeout for " + o.id);
  }

 private:
  std::mutex mx_;
  std::map<std::string, int> calls_;
};

}  // namespace

void define(kactor::runtime& rt, const settings& s) {
  const topics t(s.prefix);
  const auto runs = [&](const std::string& name) {
    return s.agents.empty() || s.agents.count(name);
  };
  const auto agent = [&](const std::string& name, const std::string& input) {
    auto a = rt.agent(name);
    a.consume(input).group(s.prefix + name);
    return a;
  };
  const auto configured = [&](const std::string& name) -> const kactor::agent_config* {
    for (const auto& a : s.configured)
      if (a.name == name) return &a;
    return nullptr;
  };

  if (runs("inventory"))
    agent("inventory", t.received).on([t](const kactor::event& e, kactor::context& ctx) {
      const auto o = decode(e.value());
      if (o.sku == "sku-sold-out")
        ctx.emit(t.failed, o.id, e.value(), {{"reason", "out of stock: " + o.sku}});
      else
        ctx.emit(t.inventory_checked, o.id, e.value());
    });

  if (runs("fraud")) {
    auto fraud = agent("fraud", t.inventory_checked);
    if (!configured("fraud") && s.exactly_once_fraud) fraud.exactly_once();
    fraud.on([t](const kactor::event& e, kactor::context& ctx) {
      const auto o = decode(e.value());
      if (o.card == "prepaid" && o.cents > 25000) {
        // exactly_once: both records or neither.
        ctx.emit(t.fraud_flagged, o.id, e.value());
        ctx.emit(t.failed, o.id, e.value(), {{"reason", "flagged by the fraud check"}});
      } else {
        ctx.emit(t.fraud_cleared, o.id, e.value());
      }
    });
  }

  if (runs("payment")) {
    auto payment = agent("payment", t.fraud_cleared);
    kactor::supervision_policy policy;
    if (const auto* c = configured("payment")) {
      policy = c->supervision;
    } else {
      policy.max_retries = 3;
      policy.backoff_base = std::chrono::milliseconds(20);
    }
    policy.dlq_topic = t.payment_failed;
    payment.supervision(policy);
    auto gateway = std::make_shared<payment_gateway>();
    payment.on([t, gateway](const kactor::event& e, kactor::context& ctx) {
      const auto o = decode(e.value());
      gateway->charge(o);
      ctx.emit(t.payment_completed, o.id, e.value());
    });
  }

  if (runs("fulfillment"))
    agent("fulfillment", t.payment_completed).on([t](const kactor::event& e, kactor::context& ctx) {
      const auto o = decode(e.value());
      ctx.emit(t.shipment_created, o.id, e.value(), {{"shipment", "shipment-" + o.id}});
    });

  if (runs("notification"))
    agent("notification", t.shipment_created).on([t](const kactor::event& e, kactor::context& ctx) {
      const auto o = decode(e.value());
      ctx.emit(t.notification_sent, o.customer, "your order " + o.id + " is on its way");
      ctx.emit(t.completed, o.id, e.value());
    });
}

ledger::ledger(kactor::runtime& rt, const std::string& prefix) {
  const topics t(prefix);
  auto a = rt.agent("ledger");
  a.consume(t.completed).consume(t.failed).consume(t.payment_failed).group(prefix + "ledger");
  a.on([this, t](const kactor::event& e, kactor::context&) {
    const auto topic = e.topic();
    record(std::string(e.key()), topic == t.completed ? outcome::completed
                                 : topic == t.failed  ? outcome::failed
                                                      : outcome::dead_lettered);
  });
}

void ledger::record(const std::string& order_id, outcome o) {
  std::lock_guard lock(mx_);
  auto [it, fresh] = outcomes_.emplace(order_id, o);
  if (!fresh && it->second != o) conflicts_.insert(order_id);
}

std::size_t ledger::count(outcome o) const {
  std::lock_guard lock(mx_);
  std::size_t n = 0;
  for (const auto& [id, out] : outcomes_) n += out == o ? 1 : 0;
  return n;
}

std::size_t ledger::orders() const {
  std::lock_guard lock(mx_);
  return outcomes_.size();
}

std::size_t ledger::conflicting() const {
  std::lock_guard lock(mx_);
  return conflicts_.size();
}

}  // namespace ecommerce
