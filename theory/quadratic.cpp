#include "theory/quadratic.hpp"

#include "theory/arguments.hpp"

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace timely::theory {

namespace {

using detail::require_positive;
using detail::require_users;

void require_contraction(double rho) {
  if (!(rho > -1.0 && rho < 1.0))
    throw std::invalid_argument("timely::theory: quadratic model needs the update contraction rho = (1 - eta)^tau in "
                                "(-1, 1), got " +
                                std::to_string(rho));
}

void require_mode(QuadraticMixing mode) {
  if (mode != QuadraticMixing::push && mode != QuadraticMixing::pull && mode != QuadraticMixing::exchange)
    throw std::invalid_argument("timely::theory: unknown quadratic mixing mode");
}

// One event of the process of docs/model.md §6.1 on the deviations e = x - a_bar (one
// dimension): e <- G e + h. G differs from the identity in at most two rows, each with at most
// two non-zero entries; h is zero except, for an update, at the updating user.
struct SparseRow {
  std::array<Eigen::Index, 2> col{};
  std::array<double, 2> coef{};
  int size = 0;
};

struct Event {
  double rate = 0.0;
  std::array<std::pair<Eigen::Index, SparseRow>, 2> changed{};  // (row index, its entries)
  int changed_count = 0;
  Eigen::Index shift_at = -1;  // index of h's non-zero entry, -1 for none
  double shift = 0.0;          // its value
};

SparseRow row_of(const Event& event, Eigen::Index a) {
  for (int k = 0; k < event.changed_count; ++k)
    if (event.changed[static_cast<std::size_t>(k)].first == a) return event.changed[static_cast<std::size_t>(k)].second;
  SparseRow identity;
  identity.col[0] = a;
  identity.coef[0] = 1.0;
  identity.size = 1;
  return identity;
}

SparseRow averaging_row(Eigen::Index u, Eigen::Index v) {
  SparseRow row;
  row.col = {u, v};
  row.coef = {0.5, 0.5};
  row.size = 2;
  return row;
}

}  // namespace

QuadraticStationary quadratic_stationary_complete(std::uint64_t n, double update_rate, double gossip_rate,
                                                  double rho, QuadraticMixing mode) {
  require_users(n, 2);
  require_positive(update_rate, "update rate mu");
  if (!(gossip_rate >= 0.0) || !std::isfinite(gossip_rate))
    throw std::invalid_argument("timely::theory: gossip rate lambda must be finite and >= 0, got " +
                                std::to_string(gossip_rate));
  require_contraction(rho);
  require_mode(mode);

  // docs/model.md §6.2, derived there. s = 1 - rho is the step of an update towards the user's
  // own optimum, g = mu s the rate of that pull. nu is the rate of the gossip terms per ordered
  // pair: every ordered pair delivers at lambda/(n-1) in push and pull, and the receiver moves
  // half-way, so nu = lambda/(2(n-1)); in exchange every unordered pair meets at
  // 2 lambda/(n-1) and both move half-way, so nu = lambda/(n-1). The stationary first moment is
  // E[e_i] = alpha b_i with alpha = g/(g + n nu). The sums T = sum_i E[e_i^2] and
  // Y = E[(sum_i e_i)^2] obey two closed linear equations; their solution is
  //   push, pull: D = nu (n + rho) + g (1 + rho),  mean model error = nu (s + rho alpha) / D
  //   exchange:   D = nu (n - s/2) + g (1 + rho),  mean model error = nu s / (2 D)
  //   both:       consensus = g (s (n-1) + alpha (2 n rho + s)) / (n D)
  // and error = mean model error + consensus. Each is written without a difference of nearly
  // equal terms, so it stays accurate for huge n and huge or tiny lambda.
  const double nd = static_cast<double>(n);
  const double s = 1.0 - rho;
  const double g = update_rate * s;
  const bool exchange = mode == QuadraticMixing::exchange;
  const double nu = exchange ? gossip_rate / (nd - 1.0) : gossip_rate / (2.0 * (nd - 1.0));
  const double alpha = g / (g + nd * nu);
  const double denominator = exchange ? nu * (nd - 0.5 * s) + g * (1.0 + rho) : nu * (nd + rho) + g * (1.0 + rho);
  const double mean_model = exchange ? 0.5 * nu * s / denominator : nu * (s + rho * alpha) / denominator;
  const double consensus = g * (s * (nd - 1.0) + alpha * (2.0 * nd * rho + s)) / (nd * denominator);
  return {mean_model + consensus, consensus, mean_model};
}

QuadraticMoments quadratic_stationary_general(const Eigen::MatrixXd& contact, const std::vector<double>& update_rates,
                                              double rho, QuadraticMixing mode, const std::vector<double>& optima) {
  if (contact.rows() != contact.cols())
    throw std::invalid_argument("timely::theory: the contact-rate matrix must be square");
  const Eigen::Index n = contact.rows();
  require_users(static_cast<std::uint64_t>(n), 2);
  if (static_cast<std::size_t>(n) > quadratic_general_max_users)
    throw std::invalid_argument("timely::theory: the brute-force quadratic solver takes at most " +
                                std::to_string(quadratic_general_max_users) + " users, got " + std::to_string(n));
  if (update_rates.size() != static_cast<std::size_t>(n) || optima.size() != static_cast<std::size_t>(n))
    throw std::invalid_argument("timely::theory: need one update rate and one optimum per user (" + std::to_string(n) +
                                "), got " + std::to_string(update_rates.size()) + " and " +
                                std::to_string(optima.size()));
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      const double c = contact(i, j);
      if (!(c >= 0.0) || !std::isfinite(c))
        throw std::invalid_argument("timely::theory: contact rates must be finite and >= 0");
      if (i == j && c != 0.0) throw std::invalid_argument("timely::theory: a user cannot contact itself (diagonal must be 0)");
    }
  for (double mu : update_rates) require_positive(mu, "update rate mu_i");
  for (double a : optima)
    if (!std::isfinite(a)) throw std::invalid_argument("timely::theory: optima must be finite");
  require_contraction(rho);
  require_mode(mode);

  // b_i = a_i - a_bar.
  double mean = 0.0;
  for (double a : optima) mean += a;
  mean /= static_cast<double>(n);
  Eigen::VectorXd b(n);
  for (Eigen::Index i = 0; i < n; ++i) b(i) = optima[static_cast<std::size_t>(i)] - mean;
  const double s = 1.0 - rho;

  // docs/model.md §6.3: list every event of the process as e <- G e + h with its rate.
  std::vector<Event> events;
  for (Eigen::Index k = 0; k < n; ++k) {  // update of k: e_k <- rho e_k + s b_k
    Event update;
    update.rate = update_rates[static_cast<std::size_t>(k)];
    SparseRow row;
    row.col[0] = k;
    row.coef[0] = rho;
    row.size = 1;
    update.changed[0] = {k, row};
    update.changed_count = 1;
    update.shift_at = k;
    update.shift = s * b(k);
    events.push_back(update);
  }
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      if (i == j || contact(i, j) == 0.0) continue;
      Event gossip;  // i's gossip clock picks j
      gossip.rate = contact(i, j);
      switch (mode) {
        case QuadraticMixing::push:  // j receives
          gossip.changed[0] = {j, averaging_row(i, j)};
          gossip.changed_count = 1;
          break;
        case QuadraticMixing::pull:  // i receives
          gossip.changed[0] = {i, averaging_row(i, j)};
          gossip.changed_count = 1;
          break;
        case QuadraticMixing::exchange:  // both receive
          gossip.changed[0] = {i, averaging_row(i, j)};
          gossip.changed[1] = {j, averaging_row(i, j)};
          gossip.changed_count = 2;
          break;
      }
      events.push_back(gossip);
    }

  // First moments: 0 = sum_e rate_e ((G_e - I) m + h_e).
  Eigen::MatrixXd first = Eigen::MatrixXd::Zero(n, n);
  Eigen::VectorXd first_rhs = Eigen::VectorXd::Zero(n);
  for (const Event& e : events) {
    for (int k = 0; k < e.changed_count; ++k) {
      const auto& [a, row] = e.changed[static_cast<std::size_t>(k)];
      first(a, a) -= e.rate;
      for (int t = 0; t < row.size; ++t) first(a, row.col[static_cast<std::size_t>(t)]) += e.rate * row.coef[static_cast<std::size_t>(t)];
    }
    if (e.shift_at >= 0) first_rhs(e.shift_at) -= e.rate * e.shift;
  }
  const Eigen::VectorXd m = first.partialPivLu().solve(first_rhs);

  // Second moments M = E[e e^T], unknowns vec(M) with index a n + b:
  // 0 = sum_e rate_e (G_e M G_e^T - M + (G_e m) h_e^T + h_e (G_e m)^T + h_e h_e^T).
  // Entry (a, b) of G M G^T - M is zero unless row a or row b of G differs from the identity,
  // so each event touches O(n) equations.
  const Eigen::Index n2 = n * n;
  Eigen::MatrixXd second = Eigen::MatrixXd::Zero(n2, n2);
  Eigen::VectorXd second_rhs = Eigen::VectorXd::Zero(n2);
  auto add_entry = [&](const Event& e, Eigen::Index a, Eigen::Index bcol) {
    const SparseRow ra = row_of(e, a);
    const SparseRow rb = row_of(e, bcol);
    const Eigen::Index eq = a * n + bcol;
    second(eq, eq) -= e.rate;
    for (int x = 0; x < ra.size; ++x)
      for (int y = 0; y < rb.size; ++y)
        second(eq, ra.col[static_cast<std::size_t>(x)] * n + rb.col[static_cast<std::size_t>(y)]) +=
            e.rate * ra.coef[static_cast<std::size_t>(x)] * rb.coef[static_cast<std::size_t>(y)];
  };
  for (const Event& e : events) {
    std::array<Eigen::Index, 2> rows{};
    for (int k = 0; k < e.changed_count; ++k) rows[static_cast<std::size_t>(k)] = e.changed[static_cast<std::size_t>(k)].first;
    auto is_changed = [&](Eigen::Index a) {
      for (int k = 0; k < e.changed_count; ++k)
        if (rows[static_cast<std::size_t>(k)] == a) return true;
      return false;
    };
    for (int k = 0; k < e.changed_count; ++k) {
      const Eigen::Index a = rows[static_cast<std::size_t>(k)];
      for (Eigen::Index c = 0; c < n; ++c) {
        add_entry(e, a, c);                  // row a of M
        if (!is_changed(c)) add_entry(e, c, a);  // column a, without counting (changed, changed) twice
      }
    }
    if (e.shift_at >= 0) {
      // G m, then the source terms (G m) h^T + h (G m)^T + h h^T, with h = shift at shift_at.
      Eigen::VectorXd gm = m;
      for (int k = 0; k < e.changed_count; ++k) {
        const auto& [a, row] = e.changed[static_cast<std::size_t>(k)];
        double value = 0.0;
        for (int t = 0; t < row.size; ++t) value += row.coef[static_cast<std::size_t>(t)] * m(row.col[static_cast<std::size_t>(t)]);
        gm(a) = value;
      }
      const Eigen::Index k = e.shift_at;
      for (Eigen::Index i = 0; i < n; ++i) {
        second_rhs(i * n + k) -= e.rate * gm(i) * e.shift;
        second_rhs(k * n + i) -= e.rate * gm(i) * e.shift;
      }
      second_rhs(k * n + k) -= e.rate * e.shift * e.shift;
    }
  }
  const Eigen::VectorXd moments = second.partialPivLu().solve(second_rhs);

  double trace = 0.0;
  double total = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    trace += moments(i * n + i);
    for (Eigen::Index j = 0; j < n; ++j) total += moments(i * n + j);
  }
  const double nd = static_cast<double>(n);
  const double error = trace / nd;
  const double mean_model = total / (nd * nd);
  if (!std::isfinite(error) || !std::isfinite(mean_model))
    throw std::runtime_error("timely::theory: the quadratic moment equations could not be solved");
  return {error, error - mean_model, mean_model};
}

}  // namespace timely::theory
