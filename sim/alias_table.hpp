#pragma once
// Walker's alias method: O(1) sampling from a fixed discrete distribution.
//
// Construction follows Vose's numerically stable variant (M. D. Vose, "A linear algorithm
// for generating random numbers with a given distribution", IEEE Trans. Software Eng.
// 17(9), 1991): scaled probabilities n*w_k/sum(w) are split into "small" (< 1) and "large"
// (>= 1) work lists; each small column is topped up from one large entry, and the large
// entry's remainder is updated as (p_large + p_small) - 1, which loses less precision than
// p_large - (1 - p_small) (Vose's remark; see also K. Schwarz, "Darts, Dice, and Coins").
//
// Sampling draws a column with one uniform_int and keeps it or takes its alias with one
// uniform_01 coin: two engine calls, chosen over splitting one 64-bit word because the
// Boost distributions are exactly unbiased and give the same draws on every platform.
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace timely::sim {

// Fills prob[k] (the probability of keeping column k) and alias[k] (the entry taken
// otherwise) for `weights`; the three spans must have the same length. Throws
// std::invalid_argument for an empty span, a negative or non-finite weight, or weights
// that are all zero. A zero weight gets prob 0 and is never drawn. The flat form lets
// CsrGraph keep one table per row in CSR order without an object per row.
void build_alias(std::span<const double> weights, std::span<double> prob,
                 std::span<std::uint32_t> alias);

// One draw from a table made by build_alias: a column uniform in [0, size), kept with
// probability prob[column], else its alias.
template <class R>
inline std::uint32_t sample_alias(std::span<const double> prob,
                                  std::span<const std::uint32_t> alias, R& rng) {
  boost::random::uniform_int_distribution<std::uint32_t> column(
      0, static_cast<std::uint32_t>(prob.size() - 1));
  const std::uint32_t k = column(rng);
  // u in [0, 1): prob 1 always keeps, prob 0 (zero weight) never keeps.
  return boost::random::uniform_01<double>{}(rng) < prob[k] ? k : alias[k];
}

// The exact probability of drawing k from a table: (prob[k] + sum over columns j that
// alias to k of (1 - prob[j])) / size. O(size); for checks and theory, not for sampling.
double alias_probability(std::span<const double> prob, std::span<const std::uint32_t> alias,
                         std::uint32_t k);

class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(std::span<const double> weights);

  template <class R>
  std::uint32_t sample(R& rng) const {
    return sample_alias(std::span<const double>(prob_), std::span<const std::uint32_t>(alias_),
                        rng);
  }

  std::size_t size() const { return prob_.size(); }

  // Reconstructed from the table itself (not from stored weights), so it checks the
  // construction; O(size) per call.
  double probability(std::uint32_t k) const { return alias_probability(prob_, alias_, k); }

 private:
  std::vector<double> prob_;
  std::vector<std::uint32_t> alias_;
};

}  // namespace timely::sim
