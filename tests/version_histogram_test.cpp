// The per-version bookkeeping must integrate exactly what a naive per-observer integration
// integrates: same staleness distribution, same worst observer, to rounding error.
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <catch2/catch.hpp>
#include <algorithm>
#include <numeric>
#include <vector>

#include "sim/random.hpp"
#include "sim/version_histogram.hpp"

using timely::sim::VersionHistogram;

namespace {

// Naive reference: every observer's view in an array, integrated between events.
struct NaiveStaleness {
  std::vector<std::uint32_t> views;
  std::uint32_t version = 0;
  std::vector<double> age_time = std::vector<double>(1024, 0.0);
  double worst_time = 0.0;
  double last = 0.0;
  bool counting = false;

  void advance(double t) {
    if (counting) {
      std::uint32_t worst = 0;
      for (std::uint32_t v : views) {
        age_time[version - v] += t - last;
        worst = std::max(worst, version - v);
      }
      worst_time += worst * (t - last);
    }
    last = t;
  }
};

}  // namespace

TEST_CASE("version histogram integrates staleness exactly like a naive per-observer integration",
          "[sim][staleness]") {
  auto rng = timely::sim::make_rng(7, timely::sim::Stream::trial, 0);
  boost::random::uniform_01<double> uniform;
  for (std::uint32_t observers : {1u, 2u, 5u, 40u}) {
    VersionHistogram h(observers);
    NaiveStaleness naive;
    naive.views.assign(observers, 0);
    double t = 0.0;
    const double warmup = 3.0, horizon = 60.0;
    bool started = false;
    while (true) {
      const double next = t + 0.01 + 0.1 * uniform(rng);
      if (!started && next > warmup) {
        naive.advance(warmup);
        naive.counting = true;
        h.start_window(warmup);
        started = true;
      }
      if (next > horizon) break;
      t = next;
      naive.advance(t);
      if (uniform(rng) < 0.15) {
        h.source_update(t);
        ++naive.version;
      } else {
        // One observer learns a newer version: from another observer or from the source.
        boost::random::uniform_int_distribution<std::uint32_t> pick(0, observers - 1);
        const std::uint32_t j = pick(rng);
        const std::uint32_t from = naive.views[j];
        const std::uint32_t to = uniform(rng) < 0.3 ? naive.version : naive.views[pick(rng)];
        if (to > from) {
          h.move(from, to, t);
          naive.views[j] = to;
        }
      }
      REQUIRE(h.min_view() == *std::min_element(naive.views.begin(), naive.views.end()));
    }
    naive.advance(horizon);
    h.close(horizon);
    REQUIRE(h.version() == naive.version);
    const double total = observers * (horizon - warmup);
    CHECK(std::accumulate(h.age_time().begin(), h.age_time().end(), 0.0) == Approx(total).epsilon(1e-12));
    for (std::size_t a = 0; a < naive.age_time.size(); ++a) {
      const double got = a < h.age_time().size() ? h.age_time()[a] : 0.0;
      CHECK(got == Approx(naive.age_time[a]).margin(1e-9 * total));
    }
    CHECK(h.worst_time() == Approx(naive.worst_time).epsilon(1e-12));
  }
}
