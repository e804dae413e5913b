#include "theory/scaling_laws.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <span>

namespace timely::theory {

namespace {

// docs/model.md §3.4. Complete and ring: Yates arXiv 2102.02893 (also §3.2-3.3); 2-D torus (grid):
// Srivastava & Ulukus arXiv 2307.08670. Clustered networks (Buyukates, Bastopcu & Ulukus
// arXiv 2109.08669) depend on the cluster layout: clustered_source_law below.
constexpr std::array<ScalingLaw, 7> known_laws{{
    {"complete", "log n", 0.0, "Yates, arXiv 2102.02893 (docs/model.md §3.2, §3.4)"},
    {"ring", "sqrt n", 0.5, "Yates, arXiv 2102.02893 (docs/model.md §3.3, §3.4)"},
    {"torus", "n^(1/3)", 1.0 / 3.0, "Srivastava & Ulukus, arXiv 2307.08670 (docs/model.md §3.4)"},
    // The 2-D grid without wrap-around has the torus's law (same abstract).
    {"grid", "n^(1/3)", 1.0 / 3.0, "Srivastava & Ulukus, arXiv 2307.08670 (docs/model.md §3.4)"},
    // "log n in some regimes" (abstract of arXiv 2405.19310).
    {"hypercube", "log n", 0.0, "arXiv 2405.19310, in some regimes (docs/model.md §3.4)"},
    // Maranzatto, arXiv 2401.11580 (abstract): G(n, d) has logarithmic version age almost surely
    // for constant d, and G(n, p) a threshold from polynomial to logarithmic. timely resamples
    // G(n, p) until it is connected, which puts it on the logarithmic side (docs/model.md §3.4).
    {"random-regular", "log n", 0.0, "Maranzatto, arXiv 2401.11580, constant degree (docs/model.md §3.4)"},
    {"erdos-renyi", "log n", 0.0,
     "Maranzatto, arXiv 2401.11580, above the threshold; timely's G(n, p) is connected (docs/model.md §3.4)"},
}};

// Derived in docs/model.md: complete r H_{n-1} / lambda (§3.5), ring the exact closed form
// r n / (2 lambda) (§3.3). Torus, a heuristic (§3.4): mean graph distance to the source grows
// like sqrt n, and rumour spreading on a lattice advances a linear front (first-passage
// percolation), so staleness is Theta(sqrt n).
constexpr std::array<ScalingLaw, 3> users_laws{{
    {"complete", "log n", 0.0, "exact r H_{n-1} / lambda (docs/model.md §3.5)"},
    {"ring", "n", 1.0, "exact r n / (2 lambda) (docs/model.md §3.3)"},
    {"torus", "sqrt n", 0.5, "heuristic: linear spreading on the lattice (docs/model.md §3.4)"},
}};

std::optional<ScalingLaw> find_law(std::span<const ScalingLaw> laws, std::string_view topology) {
  for (const ScalingLaw& law : laws)
    if (law.topology == topology) return law;
  return std::nullopt;
}

}  // namespace

std::optional<ScalingLaw> users_scaling_law(std::string_view topology) { return find_law(users_laws, topology); }

std::optional<ScalingLaw> source_scaling_law(std::string_view topology) { return find_law(known_laws, topology); }

std::optional<ShapedLaw> source_scaling_law(std::string_view topology, unsigned dimensions, double reach_exponent) {
  if (topology == "torus" && dimensions != 2)
    return ShapedLaw{"n^(1/" + std::to_string(dimensions + 1) + ")", 1.0 / (dimensions + 1.0),
                     "Maranzatto & Michelen, arXiv 2409.12710 (docs/model.md §3.4)"};
  if (topology == "generalized-ring") {
    std::string law = "sqrt n";
    if (reach_exponent != 0.0) {
      char text[32];
      std::snprintf(text, sizeof text, "n^%g", (1.0 - reach_exponent) / 2.0);
      law = text;
    }
    // The abstract proves O(n^((1-a)/2)) for f = n^a, an upper bound; f fixed is the ring's sqrt n.
    return ShapedLaw{law, (1.0 - reach_exponent) / 2.0,
                     reach_exponent != 0.0 ? "Srivastava & Ulukus, arXiv 2308.12266, an upper bound (docs/model.md §3.4)"
                                           : "Srivastava & Ulukus, arXiv 2308.12266 (docs/model.md §3.4)",
                     reach_exponent != 0.0};
  }
  const auto table = find_law(known_laws, topology);
  if (!table) return std::nullopt;
  return ShapedLaw{std::string(table->law), table->exponent, std::string(table->reference)};
}

std::string power_law_text(double e) {
  constexpr double tolerance = 1e-9;
  if (std::abs(e) < tolerance) return "log n";
  if (std::abs(e - 0.5) < tolerance) return "sqrt n";
  if (std::abs(e - 1.0) < tolerance) return "n";
  for (long q = 2; q <= 64; ++q) {
    const long p = std::lround(e * static_cast<double>(q));
    if (p > 0 && std::gcd(p, q) == 1 && std::abs(static_cast<double>(p) / static_cast<double>(q) - e) < tolerance)
      return "n^(" + std::to_string(p) + "/" + std::to_string(q) + ")";
  }
  char text[32];
  std::snprintf(text, sizeof text, "n^%g", e);
  return text;
}

std::optional<ShapedLaw> clustered_source_law(double c, unsigned levels, std::string_view inside, bool head_ring) {
  double per_level = 0.0;  // the age one level of clusters of k users adds, as a power of k
  if (inside == "disconnected") per_level = 1.0;
  else if (inside == "ring") per_level = 0.5;
  else if (inside != "complete") return std::nullopt;
  const double top = head_ring ? c / 2.0 : c;
  const double within = levels == 0 ? 0.0 : per_level * (1.0 - c) / static_cast<double>(levels);
  double e = std::max(top, within);
  if (e < 1e-12) e = 0.0;
  return ShapedLaw{power_law_text(e), e,
                   "Buyukates, Bastopcu & Ulukus, arXiv 2109.08669, with timely's cluster layout (docs/model.md §3.11)"};
}

std::optional<ShapedLaw> staleness_law(bool source_model, std::string_view topology, unsigned dimensions,
                                       double reach_exponent) {
  if (source_model) return source_scaling_law(topology, dimensions, reach_exponent);
  const auto law = users_scaling_law(topology);
  if (!law) return std::nullopt;
  return ShapedLaw{std::string(law->law), law->exponent, std::string(law->reference)};
}

}  // namespace timely::theory
