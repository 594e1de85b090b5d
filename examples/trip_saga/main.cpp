// The article's saga by choreography: booking a trip takes a flight, a hotel
// and a car, each booked by its own agent reacting to the one before; when
// the hotel fails, the flight already booked must be cancelled. No agent
// orchestrates: each consumes events and emits events. The trip agent keeps
// each trip's saga (kactor::saga_log, in its state store, so a crash or a
// move loses none) from the participants' outcomes, emits the compensations
// of a failed trip, newest first, and reports one outcome per trip:
//
//   trip.requested -> flight -> flight.booked -> hotel -> hotel.booked -> car -> car.booked
//                                                      `-> hotel.failed
//   trip (saga): car.booked -> trip.booking.completed "status=completed"
//                hotel.failed -> flight.cancel -> flight -> flight.cancelled
//                             -> trip.booking.failed "status=rolled_back"
//
//   trip_saga [--trips N] [--hotel-failure-rate R]
//       self-contained run on the embedded cluster: N trips, a summary, and
//       exit 0 if every trip ended completed or rolled back with nothing
//       half-done
//   trip_saga --brokers B --agents flight,hotel,car|trip [--exactly-once]
//       those agents only, until SIGTERM (one process per agent or any mix)
//   trip_saga --brokers B --trips N --agents none
//       feeds N trips and exits

#include <atomic>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <kactor/kactor.hpp>

#include "common/guarded_main.hpp"
#include "common/options.hpp"
#include "common/stats_file.hpp"

namespace {

using namespace std::chrono_literals;

struct topics {
  std::string prefix;
  std::string t(const char* name) const { return prefix + name; }
};

/// Whether the hotel has no room for `trip`: decided by the trip id, so a
/// trip handled again (after a crash) gets the same answer.
bool hotel_full(std::string_view trip, double rate) {
  return static_cast<double>(std::hash<std::string_view>{}(trip) % 10000) < rate * 10000;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kactor example: a trip booking saga by choreography"};
  examples::options opts;
  opts.add_to(app);
  std::string prefix, agents = "flight,hotel,car,trip";
  int trips = 200, partitions = 4;
  double failure_rate = 0.2;
  unsigned step_timeout_ms = 60000;
  bool exactly_once = false;
  app.add_option("--trips", trips, "trips to request (self-contained run, or feed with --brokers)");
  app.add_option("--hotel-failure-rate", failure_rate, "share of trips the hotel refuses")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--agents", agents, "agents this process runs: flight,hotel,car,trip or none");
  app.add_option("--partitions", partitions, "partitions of every topic it creates");
  app.add_option("--step-timeout-ms", step_timeout_ms,
                 "a step not confirmed by then fails its trip");
  app.add_flag("--exactly-once", exactly_once, "every agent commits in Kafka transactions");
  app.add_option("--prefix", prefix, "prefix of every topic and group name (tests)");
  CLI11_PARSE(app, argc, argv);

  return examples::guarded_main([&] {
    kactor::runtime rt(opts.config());
    const topics n{prefix};
    const bool demo = rt.embedded();
    for (const char* t : {"trip.requested", "flight.booked", "flight.cancel", "flight.cancelled",
                          "hotel.booked", "hotel.failed", "hotel.cancel", "hotel.cancelled",
                          "car.booked", "trip.booking.completed", "trip.booking.failed"})
      rt.create_topic(n.t(t), partitions);
    auto runs = [&](const char* a) {
      return ("," + agents + ",").find(std::string(",") + a + ",") != std::string::npos;
    };
    auto define = [&](const char* name) {
      auto a = rt.agent(name).group(prefix + "trip_saga." + name);
      if (exactly_once) a.exactly_once();
      return a;
    };

    if (runs("flight"))
      define("flight")
          .consume(n.t("trip.requested"))
          .consume(n.t("flight.cancel"))
          .on([&n](const kactor::event& e, kactor::context& ctx) {
            if (e.topic() == n.t("trip.requested"))
              ctx.emit(n.t("flight.booked"), e.key(), "flight for " + std::string(e.value()));
            else
              ctx.emit(n.t("flight.cancelled"), e.key(), "cancelled");
          });
    if (runs("hotel"))
      define("hotel")
          .consume(n.t("flight.booked"))
          .consume(n.t("hotel.cancel"))
          .on([&n, failure_rate](const kactor::event& e, kactor::context& ctx) {
            if (e.topic() == n.t("hotel.cancel"))
              ctx.emit(n.t("hotel.cancelled"), e.key(), "cancelled");
            else if (hotel_full(e.key(), failure_rate))
              ctx.emit(n.t("hotel.failed"), e.key(), "no room");
            else
              ctx.emit(n.t("hotel.booked"), e.key(), "room");
          });
    if (runs("car"))
      define("car")
          .consume(n.t("hotel.booked"))
          .on([&n](const kactor::event& e, kactor::context& ctx) {
            ctx.emit(n.t("car.booked"), e.key(), "car");
          });

    // Outcomes seen by this process's trip agent (the self-contained run's summary).
    std::mutex mx;
    std::map<std::string, std::string> outcomes;
    if (runs("trip")) {
      auto trip = define("trip").store("sagas").timers();
      for (const char* t : {"trip.requested", "flight.booked", "hotel.booked", "hotel.failed",
                            "car.booked", "flight.cancelled", "hotel.cancelled"})
        trip.consume(n.t(t));
      const auto step_timeout = std::chrono::milliseconds(step_timeout_ms);
      trip.behavior([&, step_timeout](kactor::context& ctx) -> caf::behavior {
        // One outcome per trip: reported when the saga finishes.
        auto report = [&](const std::string& id, const char* status, const std::string& why) {
          const bool done = std::string(status) == "completed";
          ctx.emit(n.t(done ? "trip.booking.completed" : "trip.booking.failed"), id,
                   std::string("status=") + status + (why.empty() ? "" : "; " + why));
          std::lock_guard lock(mx);
          outcomes[id] = status;
        };
        auto after_failure = [&ctx, report](const std::string& id) {
          kactor::saga_log sagas(ctx);
          const auto s = sagas.get(id);
          if (s && s->status == kactor::saga_status::rolled_back)
            report(id, "rolled_back", s->reason);
        };
        return {
            [&ctx, &n, report, after_failure, step_timeout](const kactor::event& e) {
              kactor::saga_log sagas(ctx);
              const std::string id(e.key());
              const auto topic = e.topic();
              if (topic == n.t("trip.requested")) {
                if (sagas.begin(id, e.value())) sagas.expect(id, "flight", step_timeout);
              } else if (topic == n.t("flight.booked")) {
                sagas.confirm(id, "flight", {n.t("flight.cancel"), id, "cancel"});
                sagas.expect(id, "hotel", step_timeout);
              } else if (topic == n.t("hotel.booked")) {
                sagas.confirm(id, "hotel", {n.t("hotel.cancel"), id, "cancel"});
                sagas.expect(id, "car", step_timeout);
              } else if (topic == n.t("car.booked")) {
                sagas.confirm(id, "car", {});
                if (sagas.complete(id)) report(id, "completed", {});
              } else if (topic == n.t("hotel.failed")) {
                if (sagas.fail(id, "hotel: " + std::string(e.value()))) after_failure(id);
              } else if (topic == n.t("flight.cancelled")) {
                if (sagas.compensated(id, "flight")) after_failure(id);
              } else if (topic == n.t("hotel.cancelled")) {
                if (sagas.compensated(id, "hotel")) after_failure(id);
              }
            },
            [&ctx, report](const kactor::timer& t) {
              // The saga a step timeout moved on; nothing for one it no
              // longer awaits.
              const auto s = kactor::saga_log(ctx).on_timer(t);
              if (s && s->status == kactor::saga_status::rolled_back)
                report(s->id, "rolled_back", s->reason);
            },
        };
      });
    }
    examples::stats_file stats(rt, opts.stats_path, std::chrono::milliseconds(100));
    for (int i = 0; i < (demo || agents == "none" ? trips : 0); ++i)
      rt.emit(n.t("trip.requested"), "trip-" + std::to_string(i),
              "to city " + std::to_string(i % 7));
    if (!rt.flush(30s)) throw std::runtime_error("the trip requests were not acknowledged");
    if (agents == "none") return 0;
    if (!demo) return rt.run_until_signal();

    // Self-contained: wait for an outcome per trip, then sum them up.
    const bool all = rt.run_until(
        [&](const kactor::runtime_stats&) {
          std::lock_guard lock(mx);
          return outcomes.size() == static_cast<std::size_t>(trips);
        },
        120s);
    rt.stop();
    std::map<std::string, int> by_status;
    for (const auto& [id, status] : outcomes) ++by_status[status];
    std::cout << "trips: " << trips << " requested, " << by_status["completed"] << " completed, "
              << by_status["rolled_back"] << " rolled back (their flights cancelled), "
              << trips - static_cast<int>(outcomes.size()) << " without an outcome\n";
    return all ? 0 : 1;
  });
}
