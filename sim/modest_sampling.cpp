#include "sim/modest_sampling.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/exponential_distribution.hpp>
#include <limits>
#include <numeric>

namespace timely::sim::modest {

std::uint64_t rank(std::uint32_t user, std::uint64_t round) {
  std::uint64_t z = (round << 32) ^ user;
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void round_order(std::uint32_t n, std::uint64_t round, std::vector<std::uint32_t>& out) {
  out.resize(n);
  std::iota(out.begin(), out.end(), 0u);
  std::sort(out.begin(), out.end(), [round](std::uint32_t a, std::uint32_t b) {
    const std::uint64_t ra = rank(a, round), rb = rank(b, round);
    return ra != rb ? ra < rb : a < b;
  });
}

Availability::Availability(const Scenario& s, std::uint32_t n, std::uint64_t trial) {
  if (s.churn.model == ChurnModel::none) return;
  always_ = false;
  spans_.resize(n);
  if (s.churn.model == ChurnModel::trace) {
    const ChurnTrace& trace = *s.churn.trace;
    for (std::uint32_t u = 0; u < n && u < trace.users(); ++u) spans_[u] = trace.online[u];
    return;
  }
  Rng rng = make_rng(s.run.seed, Stream::churn, trial);
  const double on = s.churn.online_mean, off = s.churn.offline_mean;
  boost::random::exponential_distribution<double> online_period(1.0 / on), offline_period(1.0 / off);
  for (std::uint32_t u = 0; u < n; ++u) {
    bool up = boost::random::bernoulli_distribution<double>(on / (on + off))(rng);
    for (double t = 0.0; t < s.run.horizon;) {
      const double next = t + (up ? online_period(rng) : offline_period(rng));
      if (up) spans_[u].emplace_back(t, next);
      t = next;
      up = !up;
    }
  }
}

namespace {
// The first span ending after t.
auto span_after(const std::vector<std::pair<double, double>>& spans, double t) {
  return std::upper_bound(spans.begin(), spans.end(), t, [](double x, const auto& span) { return x < span.second; });
}
}  // namespace

bool Availability::online(std::uint32_t user, double t) const {
  if (always_) return true;
  const auto it = span_after(spans_[user], t);
  return it != spans_[user].end() && it->first <= t;
}

double Availability::online_until(std::uint32_t user, double t) const {
  if (always_) return std::numeric_limits<double>::infinity();
  const auto it = span_after(spans_[user], t);
  return it != spans_[user].end() && it->first <= t ? it->second : t;
}

double Availability::next_online(std::uint32_t user, double t) const {
  if (always_) return t;
  const auto it = span_after(spans_[user], t);
  if (it == spans_[user].end()) return std::numeric_limits<double>::infinity();
  return std::max(it->first, t);
}

}  // namespace timely::sim::modest
