#pragma once
// Exact staleness with message latency (docs/model.md §7.5): the users model on the complete
// graph, push gossip, each message delivered after an exponential latency (and lost with
// probability p), by the first-passage chain of one version with its messages in flight.
#include <cstdint>
#include <optional>

namespace timely::theory {

// The largest n the chain is solved for (n = 6: about 0.1 s at mean latency 2 / lambda; the
// state count grows about tenfold per user).
inline constexpr std::uint32_t latency_exact_max_users = 6;

// Mean staleness r E[T] of the users model, complete graph of n users, push at lambda per
// user, latency Exp(mean_latency), loss p: T is the time a version takes to reach a given
// observer, computed exactly over the states (informed users, messages in flight to each
// uninformed one). In-flight counts are capped where the chance of reaching the cap is below
// 1e-16; empty for n > latency_exact_max_users, when the chain would exceed `max_states`, or
// when the latency is too long for the cap.
std::optional<double> users_staleness_push_exponential_latency(std::uint32_t n, double update_rate, double lambda,
                                                               double mean_latency, double loss = 0.0,
                                                               std::uint64_t max_states = 4'000'000);

}  // namespace timely::theory
