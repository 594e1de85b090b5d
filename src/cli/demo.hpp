#pragma once
// `kactor demo`: the two-agent pipeline the README's first command runs.

#include <string>

namespace kactor::detail {

/// Runs a checker agent (a CAF behaviour flagging large orders) and a tally
/// agent (a plain handler) over `records` orders, on the embedded cluster
/// when `brokers` is empty; prints what each agent processed and the tally.
/// Returns 0 once every order was tallied, 1 if not within two minutes.
int run_demo(int records, const std::string& brokers);

}  // namespace kactor::detail
