#include "theory/latency.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <vector>

namespace timely::theory {
namespace {

// A state of the chain: the in-flight counts of the uninformed users, sorted in decreasing
// order (users are exchangeable on the complete graph), 6 bits each, packed with m (their
// number) in the low 4 bits.
using Key = std::uint64_t;
constexpr int bits = 6;
constexpr std::uint32_t cap_limit = (1u << bits) - 1;

Key pack(const std::vector<std::uint32_t>& counts) {
  Key key = counts.size();
  for (std::size_t j = 0; j < counts.size(); ++j) key |= static_cast<Key>(counts[j]) << (4 + bits * j);
  return key;
}

class Chain {
 public:
  Chain(std::uint32_t n, double send, double latency, std::uint32_t cap, std::uint64_t max_states)
      : n_(n), latency_(latency), cap_(cap), max_states_(max_states), send_(send) {}

  // Expected integral of the number of uninformed users until all are informed, from the
  // state `counts`: V = (m + sum_x rate_x V(next_x)) / sum_x rate_x. Every transition either
  // informs a user (m falls) or adds a message (the total count rises, at most m * cap), so
  // the chain is acyclic and the recursion terminates.
  std::optional<double> value(std::vector<std::uint32_t> counts) {
    const std::size_t m = counts.size();
    if (m == 0) return 0.0;
    const Key key = pack(counts);
    if (const auto it = memo_.find(key); it != memo_.end()) return it->second;
    if (memo_.size() >= max_states_) return std::nullopt;
    // Each of the n - m informed users sends at rate `send_` to one of the n - 1 others.
    const double to_each = static_cast<double>(n_ - m) * send_ / static_cast<double>(n_ - 1);
    double total = 0.0, weighted = 0.0;
    for (std::size_t j = 0; j < m;) {
      std::size_t same = j;
      while (same < m && counts[same] == counts[j]) ++same;
      const double k = static_cast<double>(same - j);  // users with this count
      const std::uint32_t c = counts[j];
      if (c > 0) {  // one of their messages arrives: that user is informed
        std::vector<std::uint32_t> next = counts;
        next.erase(next.begin() + static_cast<std::ptrdiff_t>(j));
        const auto v = value(std::move(next));
        if (!v) return std::nullopt;
        const double rate = k * c / latency_;
        total += rate;
        weighted += rate * *v;
      }
      if (c < cap_) {  // one more message in flight to one of them
        std::vector<std::uint32_t> next = counts;
        next[j] = c + 1;  // the first of the run: the order stays decreasing
        const auto v = value(std::move(next));
        if (!v) return std::nullopt;
        const double rate = k * to_each;
        total += rate;
        weighted += rate * *v;
      }
      j = same;
    }
    const double v = (static_cast<double>(m) + weighted) / total;
    memo_.emplace(key, v);
    return v;
  }

 private:
  std::uint32_t n_;
  double latency_;
  std::uint32_t cap_;
  std::uint64_t max_states_;
  double send_;
  std::unordered_map<Key, double> memo_;
};

}  // namespace

std::optional<double> users_staleness_push_exponential_latency(std::uint32_t n, double update_rate, double lambda,
                                                               double mean_latency, double loss,
                                                               std::uint64_t max_states) {
  if (n < 2 || n > latency_exact_max_users || !(lambda > 0.0) || !(mean_latency > 0.0) || !(loss >= 0.0 && loss < 1.0)) return std::nullopt;
  const double send = lambda * (1.0 - loss);
  // Before any arrives, a user's count reaches c with probability at most prod_{i<c} x/(x + i),
  // x = send * latency (each step: one more send, rate <= send, against an arrival, rate i/L).
  const double x = send * mean_latency;
  double reach = 1.0;
  std::uint32_t cap = 0;
  while (reach > 1e-16) {
    reach *= x / (x + cap);
    ++cap;
    if (cap > cap_limit) return std::nullopt;
  }
  Chain chain(n, send, mean_latency, cap, max_states);
  const auto v = chain.value(std::vector<std::uint32_t>(n - 1, 0));
  if (!v) return std::nullopt;
  // Campbell: the mean staleness is the update rate times the mean time a version takes to
  // reach an observer (docs/model.md §7.5).
  return update_rate * *v / static_cast<double>(n - 1);
}

}  // namespace timely::theory
