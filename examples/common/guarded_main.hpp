#pragma once
// Runs an example's body and turns kactor's start-up errors into exit codes:
// 2 for configuration (the message names the key), 1 for anything else.

#include <exception>
#include <iostream>

#include <kactor/error.hpp>

namespace examples {

template <class F>
int guarded_main(F&& body) {
  try {
    return body();
  } catch (const kactor::config_error& e) {
    std::cerr << "configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace examples
