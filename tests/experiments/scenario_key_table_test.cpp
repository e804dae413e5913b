// Each scenario key's range is written once (experiments/scenario_key_table.hpp): its
// accepted-values text and its setter's check both come from it, so at every bound the text
// states, the setter accepts what the text accepts and refuses what it refuses.
#include <catch2/catch.hpp>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <string>

#include "experiments/scenario_key_table.hpp"
#include "sim/input_error.hpp"

namespace {

using namespace timely::experiments::key_table;

bool accepts(const Key& key, const std::string& raw) {
  timely::sim::Scenario s;
  try {
    timely::experiments::apply_value(s, key.name, raw);
    return true;
  } catch (const timely::InputError&) {
    return false;
  }
}

}  // namespace

TEST_CASE("range_text writes bounds as --help always has", "[keys]") {
  CHECK(range_text(closed(1e-9, 1e9), false) == "in [1e-9, 1e9]");
  CHECK(range_text(closed(0.0, 1e6), false) == "in [0, 1e6]");
  CHECK(range_text(closed(0.0, 1e300), false) == "in [0, 1e300]");
  CHECK(range_text(closed(-1.0, 2.0), false) == "in [-1, 2]");
  CHECK(range_text(closed_open(0.0, 1.0), false) == "in [0, 1)");
  CHECK(range_text(open_closed(0.0, 0.5), false) == "in (0, 0.5]");
  CHECK(range_text(above(0.0), false) == "> 0");
  CHECK(range_text(at_least(0.0), false) == ">= 0");
  CHECK(range_text(closed(2.0, 1e8), true) == "in [2, 100000000]");
  CHECK(range_text(closed(0.0, 123456789.5), false) == "in [0, 123456789.5]");  // in full where %g would round
  Range unsaid = closed(1.0, 1e8);
  unsaid.unsaid_hi = true;
  CHECK(range_text(unsaid, true) == ">= 1");
}

TEST_CASE("every numeric key accepts exactly the range its text states", "[keys]") {
  int checked = 0;
  for (const Key& key : registry()) {
    const Kind kind = key.accepts.kind;
    if (kind != Kind::integer && kind != Kind::number && kind != Kind::per_user) continue;
    INFO(key.name << " accepts " << key.accepts.text);
    const Range& r = key.accepts.range;
    const bool integers = kind == Kind::integer;
    CHECK(std::string(key.accepts.text).find(range_text(r, integers)) != std::string::npos);
    const auto text = [&](double x) {
      return integers ? fmt::format("{}", static_cast<std::int64_t>(x)) : fmt::format("{}", x);
    };
    // The next value down or up: an integer's neighbour, a number's next double (beside 0,
    // 1e-300 rather than a subnormal, which from_chars may refuse as out of range).
    const auto step = [&](double x, double direction) {
      if (integers) return x + direction;
      return x == 0.0 ? direction * 1e-300 : std::nextafter(x, direction * HUGE_VAL);
    };
    const auto below = [&](double x) { return step(x, -1.0); };
    const auto beyond = [&](double x) { return step(x, 1.0); };
    CHECK(accepts(key, text(r.lo)) == !r.open_lo);
    CHECK_FALSE(accepts(key, text(below(r.lo))));
    if (r.open_lo) CHECK(accepts(key, text(beyond(r.lo))));
    if (!std::isinf(r.hi)) {
      CHECK(accepts(key, text(r.hi)) == !r.open_hi);
      CHECK_FALSE(accepts(key, text(beyond(r.hi))));
      if (r.open_hi) CHECK(accepts(key, text(below(r.hi))));
    }
    ++checked;
  }
  CHECK(checked >= 40);
}

TEST_CASE("figures name a curve by its key's registry label, else by the key's last part", "[keys][plots]") {
  using timely::experiments::value_label;
  CHECK(value_label("gossip.scaling", "constant") == "constant capacity");
  CHECK(value_label("gossip.policy", "pilot") == "pilot policy");
  CHECK(value_label("modest.sample", "10") == "MoDeST s = 10");
  CHECK(value_label("network.topology", "ring") == "ring");
  CHECK(value_label("network.head_ring", "true") == "heads in a ring");
  CHECK(value_label("network.head_ring", "false") == "heads apart");
  CHECK(value_label("mixing.fedavg_fraction", "0.1") == "FedAvg fraction 0.1");
  CHECK(value_label("observe.every", "5") == "every = 5");  // no label of its own
  CHECK(value_label("setup", "fast") == "fast");            // not a scenario key: the value
  // Every label has one placeholder, or is a flag's pair.
  for (const Key& key : registry()) {
    INFO(key.name);
    if (key.label.empty()) continue;
    const auto bar = key.label.find('|');
    if (bar != std::string_view::npos) {
      CHECK(key.accepts.kind == Kind::boolean);
      CHECK(key.label.find("{}") == std::string_view::npos);
    } else {
      CHECK(key.label.find("{}") != std::string_view::npos);
      CHECK(key.label.find("{}", key.label.find("{}") + 2) == std::string_view::npos);
    }
  }
}
