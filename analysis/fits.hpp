#pragma once
// Scaling-law fits of a measured quantity y(n) against the network size n (docs/model.md §3.2-3.4,
// 3.6): weighted linear least squares on a transformed scale, coefficients with 95% Student-t
// confidence intervals, and a choice between laws by Akaike's information criterion.
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace timely::analysis {

// The growth laws of docs/model.md §3: complete graph Theta(ln n), ring Theta(sqrt n),
// 2-D torus Theta(n^(1/3)).
enum class Law {
  logarithmic,  // y = a + b ln n
  power,        // y = a n^b, fitted as ln y = ln a + b ln n
  square_root,  // y = a + b sqrt n
};

std::string_view to_string(Law law);  // "a + b ln n", "a n^b", "a + b sqrt n"
std::string_view law_name(Law law);   // "log", "power", "sqrt"

struct Coefficient {
  double value = 0.0;
  double ci95 = 0.0;  // half-width of the two-sided 95% confidence interval
};

struct Fit {
  Law law = Law::logarithmic;
  Coefficient a, b;
  std::size_t points = 0;
  // Residual sum of squares on the y scale, sum w_i (y_i - predict(n_i))^2 with w_i = 1/sigma_i^2
  // (or 1 without sigma), also for the power law, which is fitted on the log scale: so the
  // AICs of all laws fitted to the same data are comparable.
  double rss = 0.0;
  // Akaike information criterion for least squares with Gaussian errors of unknown common
  // scale, up to a constant shared by all models on the same data:
  //   AIC = N ln(rss / N) + 2k,  k = 2 parameters
  // (Akaike 1974, IEEE Trans. Autom. Control 19:716; Burnham & Anderson 2002, "Model
  // Selection and Multimodel Inference", 2nd ed., section 2.2). -infinity when rss = 0.
  double aic = 0.0;
  // Weighted coefficient of determination on the scale the law was fitted (log scale for power).
  double r_squared = 0.0;

  double predict(double n) const;
};

// Weighted least squares fit of one law. `sigma` (optional) holds the standard error of each
// y (e.g. a CI half-width divided by its t quantile); the weights are 1/sigma^2, and for the
// power law, fitted on the log scale, sigma_ln = sigma / y (first-order error propagation).
//
// Confidence intervals: the covariance of (intercept, slope) is s^2 (X^T W X)^{-1} with
// s^2 = rss_w / (N - 2) on the fitted scale even when sigma is given: the "reduced chi-square"
// convention, which treats sigma as relative errors known only up to a common factor
// (so scaling every sigma by a constant changes no coefficient or interval). The half-width
// is t_{0.975, N-2} sqrt(cov_jj). For the power law a = exp(intercept) and its half-width is
// a * (half-width of the intercept) by the delta method (d exp(c)/dc = exp(c)).
//
// Throws std::invalid_argument for fewer than 3 points, mismatched sizes, non-finite input,
// n <= 0, y <= 0 for the power law, sigma <= 0, or a singular design (all n equal).
Fit fit_law(Law law, std::span<const double> n, std::span<const double> y,
            std::span<const double> sigma = {});

struct LawChoice {
  std::vector<Fit> fits;  // one per law, in the order logarithmic, power, square_root
  Law best = Law::logarithmic;  // smallest AIC
  double aic_margin = 0.0;      // AIC of the runner-up minus that of the best (>= 0)
};

// Fits all three laws (so y must be positive, for the power law) and picks the smallest AIC.
// A margin above 2 is conventionally read as clear support (Burnham & Anderson 2002, 2.6).
LawChoice choose_law(std::span<const double> n, std::span<const double> y,
                     std::span<const double> sigma = {});

// Is a fitted exponent consistent with a theoretical one? `within` is
// |b - expected| <= max(tolerance, ci95). Throws std::invalid_argument unless a power-law fit.
struct ExponentCheck {
  double fitted, ci95, expected, difference;
  bool within;
};
ExponentCheck check_exponent(const Fit& power_fit, double expected, double tolerance);

// Growth per doubling of n for a logarithmic fit: b ln 2 with half-width ci95(b) ln 2 (checks
// "(r/kappa) ln 2 per doubling", docs/model.md §3.6). Throws std::invalid_argument unless logarithmic.
Coefficient per_doubling(const Fit& log_fit);

}  // namespace timely::analysis
