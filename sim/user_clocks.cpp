#include "sim/user_clocks.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <numeric>

#include "sim/csv_input.hpp"
#include "sim/input_error.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"

namespace timely::sim {
namespace {

// Each per-user key draws from its own stream, so adding a law to one key leaves the
// others' draws unchanged; the tracked sources have theirs.
enum class UsersStream : std::uint64_t { rate = 0, delay = 1, capacity = 2, tracked = 3, bandwidth = 4 };

Rng users_rng(const Scenario& s, UsersStream which) {
  return make_rng(s.run.seed, Stream::users, static_cast<std::uint64_t>(which));
}

template <class R>
double draw(const Distribution& d, R& rng) {
  switch (d.kind) {
    case DistributionKind::uniform:
      return d.a == d.b ? d.a : boost::random::uniform_real_distribution<double>(d.a, d.b)(rng);
    case DistributionKind::lognormal:
      return boost::random::lognormal_distribution<double>(std::log(d.a), d.b)(rng);
    case DistributionKind::two_point:
      return boost::random::bernoulli_distribution<double>(d.c)(rng) ? d.b : d.a;
    case DistributionKind::exponential:
      return boost::random::exponential_distribution<double>(1.0 / d.a)(rng);
  }
  return d.a;
}

}  // namespace

double sample(const Distribution& law, Rng& rng) { return draw(law, rng); }

namespace {

// Rates stay in [1e-9, 1e9] as the scenario's numbers do (a log-normal tail may leave it).
double clamp_rate(double x) { return std::clamp(x, 1e-9, 1e9); }

std::vector<double> resolve(const Scenario& s, const std::vector<double>& column, const std::optional<Distribution>& law,
                            double value, UsersStream which, bool is_rate) {
  const std::uint32_t n = s.network.n;
  if (!column.empty()) return column;
  std::vector<double> out(n, value);
  if (law) {
    Rng rng = users_rng(s, which);
    for (auto& x : out) {
      x = draw(*law, rng);
      x = is_rate ? clamp_rate(x) : std::clamp(x, 0.0, 1e9);
    }
  }
  return out;
}

[[noreturn]] void file_error(const std::string& path, std::size_t line, const std::string& what) {
  throw InputError(fmt::format("users.file: {}:{}: {}", path, line, what));
}

}  // namespace

std::string_view to_string(DistributionKind k) {
  switch (k) {
    case DistributionKind::uniform: return "uniform";
    case DistributionKind::lognormal: return "lognormal";
    case DistributionKind::two_point: return "two-point";
    case DistributionKind::exponential: return "exponential";
  }
  return "uniform";
}

std::optional<DistributionKind> parse_distribution_kind(std::string_view name) {
  for (auto k : {DistributionKind::uniform, DistributionKind::lognormal, DistributionKind::two_point, DistributionKind::exponential})
    if (to_string(k) == name) return k;
  return std::nullopt;
}

double Distribution::mean() const {
  switch (kind) {
    case DistributionKind::uniform: return 0.5 * (a + b);
    case DistributionKind::lognormal: return a * std::exp(0.5 * b * b);
    case DistributionKind::two_point: return (1.0 - c) * a + c * b;
    case DistributionKind::exponential: return a;
  }
  return a;
}

double Distribution::smallest() const {
  switch (kind) {
    case DistributionKind::uniform: return a;
    case DistributionKind::lognormal: return 0.0;
    case DistributionKind::two_point: return c > 0.0 ? (c < 1.0 ? std::min(a, b) : b) : a;
    case DistributionKind::exponential: return 0.0;
  }
  return a;
}

std::string describe(const Distribution& d) {
  switch (d.kind) {
    case DistributionKind::uniform: return fmt::format("{{ dist = \"uniform\", low = {:g}, high = {:g} }}", d.a, d.b);
    case DistributionKind::lognormal:
      return fmt::format("{{ dist = \"lognormal\", median = {:g}, sigma = {:g} }}", d.a, d.b);
    case DistributionKind::two_point:
      return fmt::format("{{ dist = \"two-point\", value = {:g}, slow_value = {:g}, slow_fraction = {:g} }}", d.a, d.b,
                         d.c);
    case DistributionKind::exponential: return fmt::format("{{ dist = \"exponential\", mean = {:g} }}", d.a);
  }
  return {};
}

std::shared_ptr<const UsersTable> read_users_file(const std::string& path) {
  std::ifstream in = open_csv_input("users.file", path, "users file");
  auto table = std::make_shared<UsersTable>();
  table->path = path;
  std::vector<std::vector<double>*> columns;
  std::vector<bool> is_rate;
  const auto error = [&](std::size_t line_no, const std::string& what) { file_error(path, line_no, what); };
  const std::size_t lines = read_csv_lines(in, false, [&](std::size_t line_no, const std::vector<std::string_view>& cells) {
    if (columns.empty()) {  // the header
      for (const auto cell : cells) {
        std::vector<double>* column = nullptr;
        if (cell == "update_rate") column = &table->update_rate;
        else if (cell == "update_delay") column = &table->update_delay;
        else if (cell == "gossip_capacity") column = &table->gossip_capacity;
        else
          file_error(path, line_no,
                     fmt::format("unknown column '{}' (columns: update_rate, update_delay, gossip_capacity)", cell));
        if (std::find(columns.begin(), columns.end(), column) != columns.end())
          file_error(path, line_no, fmt::format("column '{}' appears twice", cell));
        columns.push_back(column);
        is_rate.push_back(cell != "update_delay");
      }
      return;
    }
    if (cells.size() != columns.size())
      file_error(path, line_no, fmt::format("expected {} cells as in the header, got {}", columns.size(), cells.size()));
    for (std::size_t c = 0; c < cells.size(); ++c) {
      double x = 0.0;
      const auto [end, ec] = std::from_chars(cells[c].data(), cells[c].data() + cells[c].size(), x);
      if (cells[c].empty() || ec != std::errc() || end != cells[c].data() + cells[c].size() || !std::isfinite(x))
        file_error(path, line_no, fmt::format("expected a number, got '{}'", cells[c]));
      if (is_rate[c] ? !(x >= 1e-9 && x <= 1e9) : !(x >= 0.0 && x <= 1e9))
        file_error(path, line_no,
                   fmt::format("expected a {} in [{}, 1e9], got {}", is_rate[c] ? "rate" : "delay", is_rate[c] ? "1e-9" : "0", cells[c]));
      columns[c]->push_back(x);
    }
    ++table->rows;
  }, error);
  if (columns.empty()) file_error(path, lines, "empty file (expected a header row such as update_rate,gossip_capacity)");
  if (table->rows == 0) file_error(path, lines, "no user rows after the header");
  return table;
}

bool UserClocks::renewal() const {
  return std::any_of(update_delay.begin(), update_delay.end(), [](double c) { return c > 0.0; });
}

double UserClocks::min_gossip_rate() const { return *std::min_element(gossip_rate.begin(), gossip_rate.end()); }

UserClocks user_clocks(const Scenario& s) {
  static const UsersTable none;
  const UsersTable& t = s.users.table ? *s.users.table : none;
  UserClocks c;
  c.update_rate = resolve(s, t.update_rate, s.updates.rate_law, s.updates.rate, UsersStream::rate, true);
  c.update_delay = resolve(s, t.update_delay, s.updates.delay_law, s.updates.delay, UsersStream::delay, false);
  c.gossip_rate = resolve(s, t.gossip_capacity, s.gossip.capacity_law, s.gossip.capacity, UsersStream::capacity, true);
  // The capacity scaling multiplies every kappa_i (docs/model.md §1).
  const double g = theory::scaling_factor(s.gossip.scaling, s.network.n, s.gossip.exponent);
  for (auto& lambda : c.gossip_rate) lambda *= g;
  return c;
}

std::vector<std::uint32_t> heterogeneous_tracked(const Scenario& s) {
  const std::uint32_t n = s.network.n, k = s.tracked_sources();
  std::vector<std::uint32_t> users(n);
  std::iota(users.begin(), users.end(), 0u);
  if (k == n) return users;
  Rng rng = users_rng(s, UsersStream::tracked);
  for (std::uint32_t i = 0; i < k; ++i) {  // partial Fisher-Yates
    boost::random::uniform_int_distribution<std::uint32_t> pick(i, n - 1);
    std::swap(users[i], users[pick(rng)]);
  }
  users.resize(k);
  std::sort(users.begin(), users.end());
  return users;
}

std::vector<double> transfer_times(const Scenario& s, std::uint32_t nodes, double bytes) {
  std::vector<double> out(nodes, s.gossip.bandwidth > 0.0 ? bytes / s.gossip.bandwidth : 0.0);
  if (!s.gossip.bandwidth_law) return out;
  Rng rng = users_rng(s, UsersStream::bandwidth);
  for (std::uint32_t i = 0; i < std::min(nodes, s.network.n); ++i)
    out[i] = bytes / std::clamp(draw(*s.gossip.bandwidth_law, rng), 1.0, 1e18);
  return out;
}

UpdateIntervals update_intervals(const Scenario& s, std::uint32_t n) {
  if (!s.heterogeneous()) return {std::vector<double>(n, s.updates.delay), std::vector<double>(n, s.updates.rate)};
  UserClocks clocks = user_clocks(s);
  return {std::move(clocks.update_delay), std::move(clocks.update_rate)};
}

}  // namespace timely::sim
