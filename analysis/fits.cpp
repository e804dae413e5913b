#include "analysis/fits.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "analysis/statistics.hpp"

namespace timely::analysis {

namespace {

constexpr std::array<Law, 3> all_laws{Law::logarithmic, Law::power, Law::square_root};

[[noreturn]] void invalid(const std::string& what) {
  throw std::invalid_argument("fit_law: " + what);
}

// Regressor of the linearised law: z = intercept + slope * x.
double regressor(Law law, double n) {
  switch (law) {
    case Law::logarithmic:
    case Law::power: return std::log(n);
    case Law::square_root: return std::sqrt(n);
  }
  return 0.0;
}

void validate(Law law, std::span<const double> n, std::span<const double> y,
              std::span<const double> sigma) {
  if (n.size() != y.size()) invalid("n and y differ in size");
  if (!sigma.empty() && sigma.size() != y.size()) invalid("sigma and y differ in size");
  if (n.size() < 3) invalid("needs at least 3 points (2 coefficients and 1 degree of freedom)");
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!std::isfinite(n[i]) || !(n[i] > 0.0)) invalid("n must be finite and positive");
    if (!std::isfinite(y[i])) invalid("y must be finite");
    if (law == Law::power && !(y[i] > 0.0)) invalid("the power law needs positive y");
    if (!sigma.empty() && (!std::isfinite(sigma[i]) || !(sigma[i] > 0.0)))
      invalid("sigma must be finite and positive");
  }
}

}  // namespace

std::string_view to_string(Law law) {
  switch (law) {
    case Law::logarithmic: return "a + b ln n";
    case Law::power: return "a n^b";
    case Law::square_root: return "a + b sqrt n";
  }
  return "?";
}

std::string_view law_name(Law law) {
  switch (law) {
    case Law::logarithmic: return "log";
    case Law::power: return "power";
    case Law::square_root: return "sqrt";
  }
  return "?";
}

double Fit::predict(double n) const {
  switch (law) {
    case Law::logarithmic: return a.value + b.value * std::log(n);
    case Law::power: return a.value * std::pow(n, b.value);
    case Law::square_root: return a.value + b.value * std::sqrt(n);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

Fit fit_law(Law law, std::span<const double> n, std::span<const double> y,
            std::span<const double> sigma) {
  validate(law, n, y, sigma);
  const auto N = static_cast<Eigen::Index>(n.size());

  // Weighted problem on the fitted scale: minimise || sqrt(W) (z - X beta) ||^2.
  Eigen::MatrixXd X(N, 2);
  Eigen::VectorXd z(N), w(N);
  for (Eigen::Index i = 0; i < N; ++i) {
    const auto k = static_cast<std::size_t>(i);
    X(i, 0) = 1.0;
    X(i, 1) = regressor(law, n[k]);
    z(i) = law == Law::power ? std::log(y[k]) : y[k];
    double s = sigma.empty() ? 1.0 : sigma[k];
    if (law == Law::power && !sigma.empty()) s /= y[k];  // sigma_ln = sigma / y
    w(i) = 1.0 / (s * s);
  }
  const Eigen::VectorXd root_w = w.cwiseSqrt();
  const Eigen::MatrixXd Xw = root_w.asDiagonal() * X;
  const Eigen::VectorXd zw = root_w.cwiseProduct(z);

  // QR with column pivoting rather than the normal equations: it does not square the
  // condition number of the design (sqrt n spans two orders of magnitude here).
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(Xw);
  if (qr.rank() < 2) invalid("singular design: all n are equal");
  const Eigen::Vector2d beta = qr.solve(zw);

  const Eigen::VectorXd residual_w = zw - Xw * beta;
  const double rss_fitted = residual_w.squaredNorm();
  const double dof = static_cast<double>(N - 2);

  // (X^T W X)^{-1} = P R^{-1} R^{-T} P^T, since Xw P = Q R.
  const Eigen::Matrix2d R = qr.matrixR().topLeftCorner<2, 2>().triangularView<Eigen::Upper>();
  const Eigen::Matrix2d R_inv =
      R.triangularView<Eigen::Upper>().solve(Eigen::Matrix2d::Identity());
  const Eigen::Matrix2d P = qr.colsPermutation();
  const Eigen::Matrix2d unscaled = P * (R_inv * R_inv.transpose()) * P.transpose();
  const Eigen::Matrix2d cov = (rss_fitted / dof) * unscaled;  // reduced chi-square convention
  const double t = student_t_critical(0.95, n.size() - 2);

  Fit fit;
  fit.law = law;
  fit.points = n.size();
  const Coefficient intercept{beta(0), t * std::sqrt(cov(0, 0))};
  fit.b = {beta(1), t * std::sqrt(cov(1, 1))};
  if (law == Law::power) {
    const double a = std::exp(intercept.value);
    fit.a = {a, a * intercept.ci95};  // delta method
  } else {
    fit.a = intercept;
  }

  // Weighted R^2 on the fitted scale, about the weighted mean.
  const double z_mean = w.dot(z) / w.sum();
  const double tss = w.dot((z.array() - z_mean).square().matrix());
  fit.r_squared = tss > 0.0 ? 1.0 - rss_fitted / tss : 1.0;

  // RSS and AIC on the y scale, with the y-scale weights 1/sigma^2.
  double rss = 0.0;
  for (std::size_t k = 0; k < n.size(); ++k) {
    const double s = sigma.empty() ? 1.0 : sigma[k];
    const double r = (y[k] - fit.predict(n[k])) / s;
    rss += r * r;
  }
  fit.rss = rss;
  const double N_d = static_cast<double>(N);
  fit.aic = rss > 0.0 ? N_d * std::log(rss / N_d) + 2.0 * 2.0
                      : -std::numeric_limits<double>::infinity();
  return fit;
}

LawChoice choose_law(std::span<const double> n, std::span<const double> y,
                     std::span<const double> sigma) {
  LawChoice choice;
  for (Law law : all_laws) choice.fits.push_back(fit_law(law, n, y, sigma));
  std::vector<const Fit*> ranked;
  for (const Fit& f : choice.fits) ranked.push_back(&f);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Fit* l, const Fit* r) { return l->aic < r->aic; });
  choice.best = ranked[0]->law;
  // Two exact fits (both -infinity) are a tie, not an undefined margin.
  choice.aic_margin = ranked[1]->aic == ranked[0]->aic ? 0.0 : ranked[1]->aic - ranked[0]->aic;
  return choice;
}

ExponentCheck check_exponent(const Fit& power_fit, double expected, double tolerance) {
  if (power_fit.law != Law::power)
    throw std::invalid_argument("check_exponent: needs a power-law fit");
  ExponentCheck check{};
  check.fitted = power_fit.b.value;
  check.ci95 = power_fit.b.ci95;
  check.expected = expected;
  check.difference = std::abs(check.fitted - expected);
  check.within = check.difference <= std::max(tolerance, check.ci95);
  return check;
}

Coefficient per_doubling(const Fit& log_fit) {
  if (log_fit.law != Law::logarithmic)
    throw std::invalid_argument("per_doubling: needs a logarithmic fit");
  const double ln2 = std::log(2.0);
  return {log_fit.b.value * ln2, log_fit.b.ci95 * ln2};
}

}  // namespace timely::analysis
