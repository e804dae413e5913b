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
    double worst_integral = 0.0, worst_total = 0.0;
    for (std::size_t w = 0; w < h.worst_time().size(); ++w) {
      worst_integral += static_cast<double>(w) * h.worst_time()[w];
      worst_total += h.worst_time()[w];
    }
    CHECK(worst_integral == Approx(naive.worst_time).epsilon(1e-12));
    CHECK(worst_total == Approx(horizon - warmup).epsilon(1e-12));
  }
}

TEST_CASE("worst staleness over all sources is integrated exactly like a naive maximum", "[sim][staleness]") {
  auto rng = timely::sim::make_rng(11, timely::sim::Stream::trial, 0);
  boost::random::uniform_01<double> uniform;
  constexpr std::uint32_t sources = 4, observers = 6;
  timely::sim::WorstTracker across(sources);
  std::vector<VersionHistogram> h(sources, VersionHistogram(observers, &across));
  std::vector<std::vector<std::uint32_t>> views(sources, std::vector<std::uint32_t>(observers, 0));
  std::vector<std::uint32_t> version(sources, 0);
  std::vector<double> naive_max_time(256, 0.0);
  const auto naive_max = [&] {
    std::uint32_t m = 0;
    for (std::uint32_t s = 0; s < sources; ++s)
      m = std::max(m, version[s] - *std::min_element(views[s].begin(), views[s].end()));
    return m;
  };
  double t = 0.0;
  const double horizon = 80.0;
  while (true) {
    const double next = t + 0.01 + 0.1 * uniform(rng);
    if (next > horizon) break;
    naive_max_time[naive_max()] += next - t;
    t = next;
    boost::random::uniform_int_distribution<std::uint32_t> pick_source(0, sources - 1), pick(0, observers - 1);
    const std::uint32_t s = pick_source(rng);
    if (uniform(rng) < 0.1) {
      h[s].source_update(t);
      ++version[s];
    } else {
      const std::uint32_t j = pick(rng);
      const std::uint32_t to = uniform(rng) < 0.3 ? version[s] : views[s][pick(rng)];
      if (to > views[s][j]) {
        h[s].move(views[s][j], to, t);
        views[s][j] = to;
      }
    }
    REQUIRE(across.max() == naive_max());
  }
  naive_max_time[naive_max()] += horizon - t;
  across.close(horizon);
  for (std::size_t w = 0; w < naive_max_time.size(); ++w) {
    const double got = w < across.max_time().size() ? across.max_time()[w] : 0.0;
    CHECK(got == Approx(naive_max_time[w]).margin(1e-9));
  }
}
