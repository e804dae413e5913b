#include "theory/shs_solver.hpp"

#include "theory/arguments.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace timely::theory {

namespace {

using Mask = std::uint32_t;
static_assert(shs_max_users < 32, "masks are 32-bit");

// What the recursion solves for: the mean version age of a set, or its binary freshness.
enum class Quantity { age, freshness };

// Core of docs/model.md §3.1 on m users given as a dense row-major flow table (m*m) and source pushes.
// Returns v_{{i}} (or the freshness F_{{i}}) for i = 0..m-1.
std::vector<double> solve_subsets(std::size_t m, const std::vector<double>& flow, const std::vector<double>& push,
                                  double version_rate, Quantity quantity = Quantity::age) {
  // Out-neighbour masks let the inner loop skip pairs that carry no flow, so sparse graphs
  // cost O(2^n * n * degree) instead of O(2^n * n^2).
  std::vector<Mask> out_nbrs(m, 0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j)
      if (i != j && flow[i * m + j] > 0.0) out_nbrs[i] |= Mask{1} << j;

  const Mask full = (Mask{1} << m) - 1;
  std::vector<double> v(std::size_t{full} + 1, 0.0);
  for (Mask set = full; set >= 1; --set) {
    double source_in = 0.0;  // lambda_0(S)
    for (Mask bits = set; bits != 0; bits &= bits - 1) source_in += push[std::countr_zero(bits)];

    // Yates 2102.02893 (docs/model.md §3.1): X_S resets to 0 on a source push into S, becomes
    // X_{S+i} when outsider i sends into S, and otherwise grows at rate lambda_e.
    // Freshness (docs/model.md §3.1): the indicator x_S that some user of S holds the current
    // version is set to 1 by a push into S, to 0 by a source update (rate lambda_e), and to
    // x_{S+i} when outsider i sends into S, so F_S = (lambda_0(S) + sum lambda_i(S) F_{S+i}) /
    // (lambda_e + lambda_0(S) + sum lambda_i(S)).
    const bool fresh = quantity == Quantity::freshness;
    double numerator = fresh ? source_in : version_rate;
    double denominator = fresh ? source_in + version_rate : source_in;
    for (Mask outside = full & ~set; outside != 0; outside &= outside - 1) {
      const auto i = static_cast<std::size_t>(std::countr_zero(outside));
      Mask into = out_nbrs[i] & set;
      if (into == 0) continue;
      double rate = 0.0;  // lambda_i(S)
      for (; into != 0; into &= into - 1) rate += flow[i * m + static_cast<std::size_t>(std::countr_zero(into))];
      numerator += rate * v[set | (Mask{1} << i)];  // S+i is a larger mask: already solved
      denominator += rate;
    }
    if (!(denominator > 0.0))
      throw std::invalid_argument(
          "timely::theory::shs: a set of users receives no information (graph not connected to the source)");
    v[set] = numerator / denominator;
  }

  std::vector<double> singles(m);
  for (std::size_t i = 0; i < m; ++i) singles[i] = v[Mask{1} << i];
  return singles;
}

void check_flow(const Eigen::MatrixXd& flow) {
  if (flow.rows() != flow.cols())
    throw std::invalid_argument("timely::theory::shs: flow matrix must be square");
  const auto n = static_cast<std::size_t>(flow.rows());
  if (n > shs_max_users)
    throw std::invalid_argument("timely::theory::shs: n = " + std::to_string(n) + " exceeds shs_max_users = " +
                                std::to_string(shs_max_users) + " (memory 2^n)");
  for (Eigen::Index i = 0; i < flow.rows(); ++i)
    for (Eigen::Index j = 0; j < flow.cols(); ++j)
      if (i != j && !(flow(i, j) >= 0.0 && std::isfinite(flow(i, j))))
        throw std::invalid_argument("timely::theory::shs: flow rates must be finite and >= 0");
}

}  // namespace

namespace {

std::vector<double> solve_source(const Eigen::MatrixXd& flow, const std::vector<double>& source_push,
                                 double version_rate, Quantity quantity) {
  check_flow(flow);
  const auto n = static_cast<std::size_t>(flow.rows());
  if (n == 0) throw std::invalid_argument("timely::theory::shs: need at least one user");
  if (source_push.size() != n)
    throw std::invalid_argument("timely::theory::shs: source_push must have one rate per user");
  for (double p : source_push)
    if (!(p >= 0.0 && std::isfinite(p)))
      throw std::invalid_argument("timely::theory::shs: source push rates must be finite and >= 0");
  detail::require_positive(version_rate, "version rate lambda_e");

  std::vector<double> dense(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      dense[i * n + j] = i == j ? 0.0 : flow(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
  return solve_subsets(n, dense, source_push, version_rate, quantity);
}

}  // namespace

std::vector<double> shs_source_ages(const Eigen::MatrixXd& flow, const std::vector<double>& source_push,
                                    double version_rate) {
  return solve_source(flow, source_push, version_rate, Quantity::age);
}

std::vector<double> shs_source_freshness(const Eigen::MatrixXd& flow, const std::vector<double>& source_push,
                                         double version_rate) {
  return solve_source(flow, source_push, version_rate, Quantity::freshness);
}

std::vector<double> users_staleness_from(const Eigen::MatrixXd& flow, std::size_t k, double update_rate) {
  check_flow(flow);
  const auto n = static_cast<std::size_t>(flow.rows());
  if (n < 2) throw std::invalid_argument("timely::theory::users_staleness_from: need n >= 2 users");
  if (k >= n) throw std::invalid_argument("timely::theory::users_staleness_from: source index k out of range");
  detail::require_positive(update_rate, "update rate r");

  // Users model (docs/model.md §2, Mitra & Ulukus 2404.19749): S_ik counts k's versions that i
  // has not seen, which is the version age of observer i with k as the external source. So run
  // docs/model.md §3.1 over the n-1 observers with lambda_e = r and source pushes flow(k, j).
  const std::size_t m = n - 1;
  std::vector<std::size_t> observer(m);
  for (std::size_t a = 0, i = 0; i < n; ++i)
    if (i != k) observer[a++] = i;
  std::vector<double> dense(m * m, 0.0);
  std::vector<double> push(m);
  for (std::size_t a = 0; a < m; ++a) {
    const auto ia = static_cast<Eigen::Index>(observer[a]);
    push[a] = flow(static_cast<Eigen::Index>(k), ia);
    for (std::size_t b = 0; b < m; ++b)
      if (a != b) dense[a * m + b] = flow(ia, static_cast<Eigen::Index>(observer[b]));
  }
  const std::vector<double> ages = solve_subsets(m, dense, push, update_rate);

  std::vector<double> staleness(n, 0.0);
  for (std::size_t a = 0; a < m; ++a) staleness[observer[a]] = ages[a];
  return staleness;
}

double users_staleness_mean(const Eigen::MatrixXd& flow, double update_rate, bool vertex_transitive) {
  if (flow.rows() < 2 || flow.rows() != flow.cols())
    throw std::invalid_argument("timely::theory::users_staleness_mean: need a square flow matrix with n >= 2");
  const auto n = static_cast<std::size_t>(flow.rows());
  const std::size_t sources = vertex_transitive ? 1 : n;
  double sum = 0.0;
  for (std::size_t k = 0; k < sources; ++k)
    for (double s : users_staleness_from(flow, k, update_rate)) sum += s;  // 0 at index k
  return sum / (static_cast<double>(sources) * static_cast<double>(n - 1));
}

double users_staleness_mean(const Eigen::MatrixXd& flow, double update_rate) {
  return users_staleness_mean(flow, update_rate, false);
}

}  // namespace timely::theory
