// The e-commerce pipeline's pieces that need no broker: the order format,
// the order mix, and the per-agent config files an operator starts a fleet
// with (examples/ecommerce/config).

#include "ecommerce/pipeline.hpp"

#include <set>

#include <gtest/gtest.h>

namespace {

TEST(ecommerce, an_order_survives_its_record_format) {
  const auto o = ecommerce::make_order(42);
  const auto back = ecommerce::decode(ecommerce::encode(o));
  EXPECT_EQ(back.id, o.id);
  EXPECT_EQ(back.customer, o.customer);
  EXPECT_EQ(back.sku, o.sku);
  EXPECT_EQ(back.quantity, o.quantity);
  EXPECT_EQ(back.cents, o.cents);
  EXPECT_EQ(back.card, o.card);
}

TEST(ecommerce, a_value_that_is_no_order_is_irrecoverable_and_quoted) {
  for (const char* bad : {"", "order-1|c|sku|x|100|visa", "order-1|c|sku|1|100", "|c|s|1|1|visa"}) {
    try {
      ecommerce::decode(bad);
      ADD_FAILURE() << "decoded '" << bad << "'";
    } catch (const kactor::irrecoverable_error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(ecommerce, the_order_mix_exercises_every_path_of_the_pipeline) {
  std::set<std::string> kinds, ids;
  for (int n = 0; n < 500; ++n) {
    const auto o = ecommerce::make_order(n);
    ids.insert(o.id);
    if (o.sku == "sku-sold-out")
      kinds.insert("sold out");
    else if (o.card == "prepaid" && o.cents > 25000)
      kinds.insert("flagged");
    else
      kinds.insert(o.card);
  }
  EXPECT_EQ(ids.size(), 500u);
  EXPECT_EQ(kinds,
            (std::set<std::string>{"sold out", "flagged", "prepaid", "declined", "flaky", "visa"}));
}

TEST(ecommerce, each_agent_config_file_loads_and_configures_its_agent) {
  for (const auto& name : ecommerce::agent_names()) {
    const auto cfg = kactor::load_config(std::string(KACTOR_SOURCE_DIR) +
                                         "/examples/ecommerce/config/" + name + ".yaml");
    ASSERT_EQ(cfg.agents.size(), 1u) << name;
    EXPECT_EQ(cfg.agents[0].name, name);
    EXPECT_EQ(cfg.client_id, "ecommerce-" + name);
    if (name == "fraud")
      EXPECT_EQ(cfg.agents[0].guarantee, kactor::processing_guarantee::exactly_once);
    if (name == "payment") {
      EXPECT_EQ(cfg.agents[0].supervision.max_retries, 3u);
      EXPECT_EQ(cfg.agents[0].supervision.on_escalation,
                kactor::supervision_policy::escalation_action::exit);
    }
  }
}

}  // namespace
