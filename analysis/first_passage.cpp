#include "analysis/first_passage.hpp"

#include <algorithm>
#include <optional>
#include <variant>

#include "sim/draws.hpp"
#include "sim/random.hpp"
#include "theory/first_passage.hpp"

namespace timely::analysis {

FirstPassageSearch::FirstPassageSearch(const sim::CsrGraph& graph)
    : graph_(graph), seen_(graph.size(), 0), queue_(graph.size()) {}

std::uint32_t FirstPassageSearch::m_star(std::uint32_t v) {
  const std::uint64_t n = graph_.size();
  if (++stamp_ == 0) {  // the stamps wrapped: clear them once every 2^32 - 1 searches
    std::fill(seen_.begin(), seen_.end(), 0);
    stamp_ = 1;
  }
  seen_[v] = stamp_;
  queue_[0] = v;
  std::uint64_t size = 1;               // |B_m|: the queue's first `size` entries
  std::uint64_t begin = 0, end = 1;     // the last layer, queue_[begin .. end)
  for (std::uint64_t m = 1;; ++m) {
    // Grow B_{m-1} into B_m by the neighbours of its outer layer.
    for (std::uint64_t k = begin; k < end; ++k)
      for (const std::uint32_t u : graph_.neighbours(queue_[k]))
        if (seen_[u] != stamp_) {
          seen_[u] = stamp_;
          queue_[size++] = u;
        }
    begin = end;
    end = size;
    // A disconnected graph stops growing; m |B_m| >= n still holds by m = n.
    if (m * size >= n) return static_cast<std::uint32_t>(m);
  }
}

namespace {

// The closed forms of the vertex-transitive lattices; nullopt for a CSR graph.
std::optional<std::uint32_t> transitive_m_star(const sim::Graph& graph) {
  if (std::holds_alternative<sim::CompleteGraph>(graph)) return 1;  // B_1 is every user
  if (const auto* ring = std::get_if<sim::RingGraph>(&graph))
    return static_cast<std::uint32_t>(theory::ring_first_passage_scale(ring->n));
  if (const auto* torus = std::get_if<sim::TorusGraph>(&graph))
    return static_cast<std::uint32_t>(theory::torus_first_passage_scale(torus->side));
  if (const auto* circulant = std::get_if<sim::CirculantGraph>(&graph))
    return static_cast<std::uint32_t>(theory::circulant_first_passage_scale(circulant->n, circulant->f));
  return std::nullopt;
}

}  // namespace

std::uint32_t m_star(const sim::Graph& graph, std::uint32_t v) {
  if (const auto t = transitive_m_star(graph)) return *t;
  FirstPassageSearch search(std::get<sim::CsrGraph>(graph));
  return search.m_star(v);
}

FirstPassageScale first_passage_scale(const sim::Graph& graph, std::uint64_t seed) {
  const std::uint32_t n = sim::graph_size(graph);
  FirstPassageScale out;
  if (const auto t = transitive_m_star(graph)) {
    out.mean = *t;
    out.max = *t;
    out.users = n;
    out.max_degree = n > 0 ? std::visit([](const auto& g) { return g.degree(0); }, graph) : 0;
    return out;
  }
  const auto& csr = std::get<sim::CsrGraph>(graph);
  for (std::uint32_t v = 0; v < n; ++v) out.max_degree = std::max(out.max_degree, csr.degree(v));
  FirstPassageSearch search(csr);
  double sum = 0.0;
  const auto add = [&](std::uint32_t v) {
    const std::uint32_t m = search.m_star(v);
    sum += m;
    out.max = std::max(out.max, m);
    ++out.users;
  };
  if (n <= m_star_all_users_max) {
    for (std::uint32_t v = 0; v < n; ++v) add(v);
  } else {
    out.sampled = true;
    sim::Rng rng = sim::make_rng(seed, sim::Stream::graph, 1);
    for (std::uint32_t k = 0; k < m_star_sample_users; ++k) add(sim::uniform_below(rng, n));
  }
  out.mean = out.users > 0 ? sum / out.users : 0.0;
  return out;
}

}  // namespace timely::analysis
