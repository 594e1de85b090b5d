// A user project outside kactor: finds the installed package, defines an
// agent, runs it on the embedded cluster.
#include <atomic>
#include <iostream>
#include <kactor/kactor.hpp>
int main() {
  kactor::runtime rt;
  rt.create_topic("in", 2);
  std::atomic<int> n{0};
  rt.agent("a").consume("in").on([&](const kactor::event&, kactor::context&) { ++n; });
  rt.start();
  for (int i = 0; i < 10; ++i) rt.emit("in", "k", "v");
  while (n < 10) rt.wait_for_stop_request(std::chrono::milliseconds(10));
  rt.stop();
  std::cout << "user app saw " << n << "\n";
}
