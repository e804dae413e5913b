#pragma once
// Gossip policies (docs/model.md §1.1): who gossips when. Every gossip tick of every event
// loop (sim/event_engine.hpp, the source model and the rumour in sim/trial.cpp) goes through
// one hook, gossip_tick(), where the scenario's policy decides whether the ticking user
// contacts anyone, and whom. The contact then goes to the model, which may be the network
// layer (sim/message_layer.hpp) wrapping the users or learning model: policies compose with the
// network rather than sit beside it.
//
// A policy is one type and one row of GossipPolicies below. The type provides
//   static constexpr GossipPolicyInfo info;    its name for gossip.policy, help, theory
//   static constexpr bool always_contacts;     true if partner() never answers no_contact
//   Policy(const Scenario&, std::uint32_t n);  per-trial state for n users, built once
//   partner(view, i, t, rng) -> j or no_contact, for any GossipView (sim/clock_model.hpp)
// and draws only from the trial's engine `rng`, so results stay reproducible. The loops are
// compiled once per policy (with_policy), so a policy costs no call per event.
#include <array>
#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "sim/clock_model.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"

namespace timely::sim {

// What the registry says of a policy beside its behaviour.
struct GossipPolicyInfo {
  std::string_view name;         // the value of gossip.policy
  std::string_view description;  // one line, for --help, errors and the docs
  bool has_theory;               // timely theory has exact values or a law for it
};

namespace engine {

inline constexpr std::uint32_t no_contact = ~std::uint32_t{0};

template <class P, class View>
concept GossipPolicy = GossipView<View> && requires(P& p, const View& v, std::uint32_t i, double t, Rng& rng) {
  { P::info } -> std::convertible_to<GossipPolicyInfo>;
  { P::always_contacts } -> std::convertible_to<bool>;
  { p.partner(v, i, t, rng) } -> std::same_as<std::uint32_t>;
};

// ---- the policies ----------------------------------------------------------------------

// Blind gossip (docs/model.md §1): every tick of a user's Poisson clock, at the capacity
// rate, contacts a neighbour drawn by the graph's law. The draws are exactly those of the
// loops before policies existed, so results are bit-identical.
struct UniformGossip {
  static constexpr GossipPolicyInfo info{
      "uniform", "every gossip tick contacts a neighbour drawn by the graph (blind Poisson gossip)", true};
  static constexpr bool always_contacts = true;
  UniformGossip(const Scenario&, std::uint32_t) {}
  template <GossipView V>
  [[gnu::always_inline]] std::uint32_t partner(const V& v, std::uint32_t i, double, Rng& rng) {
    return v.graph().pick(i, rng);
  }
};

// ---- the registry ----------------------------------------------------------------------

template <class... P>
struct PolicyList {
  static constexpr std::size_t size = sizeof...(P);
};

// One row per policy; GossipPolicyId{k} is the k-th. The first is the default.
using GossipPolicies = PolicyList<UniformGossip>;

template <class F, class P, class... Rest>
decltype(auto) with_policy_at(std::size_t index, F& f, PolicyList<P, Rest...>) {
  if constexpr (sizeof...(Rest) == 0) {
    return f(std::type_identity<P>{});
  } else {
    if (index == 0) return f(std::type_identity<P>{});
    return with_policy_at(index - 1, f, PolicyList<Rest...>{});
  }
}

// f(policy) with the scenario's policy built for n users: one instantiation of f per policy.
template <class F>
decltype(auto) with_policy(const Scenario& s, std::uint32_t n, F&& f) {
  auto build = [&](auto type) -> decltype(auto) {
    typename decltype(type)::type policy(s, n);
    return f(policy);
  };
  return with_policy_at(s.gossip.policy.index, build, GossipPolicies{});
}

// A gossip tick of user i at time t: the policy picks the partner, the model makes the
// contact (a merge, or through the network layer a message).
template <ClockModel Model, class Policy>
  requires GossipPolicy<Policy, Model>
[[gnu::always_inline]] inline void gossip_tick(Model& m, Policy& policy, std::uint32_t i, double t, Rng& rng) {
  const std::uint32_t j = policy.partner(m, i, t, rng);
  if constexpr (Policy::always_contacts) {
    m.gossip(i, j, t);
  } else {
    if (j != no_contact) m.gossip(i, j, t);
  }
}

}  // namespace engine

// The registry's rows as (name, description, has_theory), in GossipPolicyId order.
template <class... P>
constexpr auto policy_infos(engine::PolicyList<P...>) {
  return std::array<GossipPolicyInfo, sizeof...(P)>{P::info...};
}
inline constexpr auto gossip_policy_infos = policy_infos(engine::GossipPolicies{});

inline const GossipPolicyInfo& policy_info(GossipPolicyId id) { return gossip_policy_infos[id.index]; }

}  // namespace timely::sim
