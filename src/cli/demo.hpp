#pragma once
// `kactor demo`: the article's e-commerce pipeline (examples/ecommerce)
// with a live view, the README's first command.

#include <string>

namespace kactor::detail {

/// Feeds `orders` orders through the five pipeline agents and a ledger of
/// their outcomes, on the embedded cluster when `brokers` is empty (the
/// fraud agent then runs at_least_once: no transactions there) or on
/// `brokers` (fraud exactly_once). While it runs, a view of each agent
/// (processed, lag, in flight, retries, dead letters) is redrawn in place
/// when stdout is a terminal, printed every 2 s otherwise; at the end a
/// table of the outcomes. Returns 0 once every order ended exactly once and
/// every agent's lag is 0, 1 if not within two minutes.
int run_demo(int orders, const std::string& brokers);

}  // namespace kactor::detail
