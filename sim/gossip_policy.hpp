#pragma once
// Gossip policies (docs/model.md §1.1): who gossips when. Every gossip tick of every event
// loop (sim/event_engine.hpp, the source model and the rumour in sim/trial.cpp) goes through
// one hook, gossip_tick(), where the scenario's policy decides whether the ticking user
// contacts anyone, and whom. The contact then goes to the model, which may be the network
// layer (sim/message_layer.hpp) wrapping the users or learning model: policies compose with the
// network rather than sit beside it.
//
// A policy is one type and one row of GossipPolicies below. The type provides
//   static constexpr GossipPolicyInfo info;    its name for gossip.policy, help, theory, and
//                                              the loops it runs in (the others refuse it)
//   static constexpr bool always_contacts;     true if partner() never answers no_contact
//   Policy(const Scenario&, std::uint32_t n);  per-trial state for n users, built once
//   partner(view, i, t, rng) -> j or no_contact, for any GossipView (sim/clock_model.hpp)
// and optionally
//   actor(view, i, t, rng) -> the user who makes the contact of user i's tick (default: i)
//   acquired(j, version)   told when user j gets a newer version (the source model tells it)
//   static void check(const Scenario&)  throws InputError naming the key and what it accepts
//                                       when the scenario does not fit (beyond the loops)
// and draws only from the trial's engine `rng`, so results stay reproducible. The loops are
// compiled once per policy that runs in them (with_policy), so a policy costs no call per
// event.
#include <array>
#include <boost/random/uniform_int_distribution.hpp>
#include <concepts>
#include <cstdint>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sim/clock_model.hpp"
#include "sim/input_error.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"

namespace timely::sim {

// The event loops a policy can drive.
enum class PolicyLoop : std::uint8_t {
  source,    // the source model (staleness.model = "source", sim/source_model.cpp)
  users,     // the users model (staleness.model = "users"), with or without the network layer
  learning,  // learning's clocks (sim/learning_clocks.hpp)
};

// A policy's own theory of the mean staleness (docs/model.md §1.1), where it has one.
struct PolicyTheory {
  double staleness;         // the expected time-averaged staleness per user
  std::string_view method;  // "exact: ..." with its derivation's section
  std::string_view law;     // its growth in n
};

// What the registry says of a policy beside its behaviour.
struct GossipPolicyInfo {
  std::string_view name;         // the value of gossip.policy
  std::string_view description;  // one line, for --help, errors and the docs
  bool has_theory;               // every formula of timely theory (§3) holds for it (uniform gossip)
  bool source = true, users = true, learning = true;  // the loops it runs in
  // Otherwise its own theory, or empty for a scenario it has none for (null: never).
  std::optional<PolicyTheory> (*theory)(const Scenario&) = nullptr;
  constexpr bool runs_in(PolicyLoop loop) const {
    return loop == PolicyLoop::source ? source : loop == PolicyLoop::users ? users : learning;
  }
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

// The pilot-signal scheme (Mitra & Ulukus, "Timely opportunistic gossiping in dense networks",
// arXiv 2301.00798; timely's reading, docs/model.md §1.1): the users that hold the newest
// version present among the users (which the paper's pilot signals find; here known exactly)
// spend the whole gossip budget B = n kappa g(n), the total that uniform gossip spends. Each
// tick of the budget's clock is made by a uniformly chosen one of them, pushing to a neighbour
// drawn by the graph (on the complete graph, a uniformly chosen other user). The set only
// grows until a user gets a newer version, which then holds it alone. Source model only.
struct PilotGossip {
  // Exact on the complete graph (derived in docs/model.md §1.1): the freshest users lag the
  // source by D, which grows at the source's updates (rate lambda_e) and returns to 0 at its
  // pushes (rate lambda_0), so E[D] = lambda_e / lambda_0; any other user is the partner of a
  // tick at rate beta = B / (n-1), whoever is acting, and then lags by D alone; the source
  // reaches it at rate lambda_0 / n. Hence E[age] = (lambda_e + beta E[D]) / (lambda_0/n + beta).
  static std::optional<PolicyTheory> theory(const Scenario& s) {
    if (s.network.topology != TopologyKind::complete) return std::nullopt;
    const double n = s.network.n, beta = s.gossip_rate() * n / (n - 1.0);
    const double lag = s.source.rate / s.source.push_rate;  // E[D]
    return PolicyTheory{(s.source.rate + beta * lag) / (s.source.push_rate / n + beta),
                        "exact: (lambda_e + beta lambda_e/lambda_0) / (lambda_0/n + beta), beta = n lambda/(n-1), "
                        "complete graph (derived in docs/model.md §1.1)",
                        "Theta(1) at constant capacity"};
  }
  static constexpr GossipPolicyInfo info{
      "pilot",
      "the freshest users spend the whole gossip budget: each tick, one of the users holding the newest version among "
      "users pushes to a neighbour (source model)",
      false, true, false, false, &theory};
  static constexpr bool always_contacts = true;
  static void check(const Scenario& s) {
    if (s.gossip.mode != GossipMode::push)
      throw InputError("gossip.mode: gossip.policy = \"pilot\" pushes from the freshest users; expected \"push\"");
  }
  PilotGossip(const Scenario&, std::uint32_t n) : fresh_(n) { std::iota(fresh_.begin(), fresh_.end(), 0u); }
  template <GossipView V>
  std::uint32_t actor(const V&, std::uint32_t, double, Rng& rng) {
    return fresh_[boost::random::uniform_int_distribution<std::uint32_t>(0, static_cast<std::uint32_t>(fresh_.size() - 1))(rng)];
  }
  template <GossipView V>
  std::uint32_t partner(const V& v, std::uint32_t i, double, Rng& rng) {
    return v.graph().pick(i, rng);
  }
  // Versions only grow, so a user joins the set at most once per newest version: no
  // duplicates, and at most n entries (reserved: no allocation per event).
  void acquired(std::uint32_t user, std::uint32_t version) {
    if (version > newest_) {
      newest_ = version;
      fresh_.clear();
    }
    if (version == newest_) fresh_.push_back(user);
  }

 private:
  std::vector<std::uint32_t> fresh_;  // the users holding version newest_ (all, at the start)
  std::uint32_t newest_ = 0;
};

// ---- the registry ----------------------------------------------------------------------

template <class... P>
struct PolicyList {
  static constexpr std::size_t size = sizeof...(P);
};

// One row per policy; GossipPolicyId{k} is the k-th. The first is the default.
using GossipPolicies = PolicyList<UniformGossip, PilotGossip>;
// The default runs everywhere, so every loop has a policy to compile.
static_assert(UniformGossip::info.source && UniformGossip::info.users && UniformGossip::info.learning);

template <PolicyLoop Loop, class R, class F, class P, class... Rest>
R with_policy_at(std::size_t index, F& f, PolicyList<P, Rest...>) {
  if (index == 0) {
    if constexpr (P::info.runs_in(Loop)) return f(std::type_identity<P>{});
    else throw std::logic_error("gossip.policy: a policy reached a loop it does not run in (validation refuses it)");
  }
  if constexpr (sizeof...(Rest) == 0) throw std::logic_error("gossip.policy: no such policy");
  else return with_policy_at<Loop, R>(index - 1, f, PolicyList<Rest...>{});
}

// f(policy) with the scenario's policy built for n users: one instantiation of f per policy
// that runs in this loop.
template <PolicyLoop Loop, class F>
decltype(auto) with_policy(const Scenario& s, std::uint32_t n, F&& f) {
  auto build = [&](auto type) -> decltype(auto) {
    typename decltype(type)::type policy(s, n);
    return f(policy);
  };
  using R = decltype(build(std::type_identity<UniformGossip>{}));
  return with_policy_at<Loop, R>(s.gossip.policy.index, build, GossipPolicies{});
}

// The user whose contact a tick of user i's clock makes: i, unless the policy chooses.
template <class Policy, class View>
[[gnu::always_inline]] inline std::uint32_t tick_actor(Policy& policy, const View& v, std::uint32_t i, double t, Rng& rng) {
  if constexpr (requires { policy.actor(v, i, t, rng); }) return policy.actor(v, i, t, rng);
  else return i;
}

// A gossip tick of user i at time t: the policy picks the partner, the model makes the
// contact (a merge, or through the network layer a message).
template <ClockModel Model, class Policy>
  requires GossipPolicy<Policy, Model>
[[gnu::always_inline]] inline void gossip_tick(Model& m, Policy& policy, std::uint32_t tick, double t, Rng& rng) {
  const std::uint32_t i = tick_actor(policy, m, tick, t, rng);
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

// The loop a scenario runs: learning's clocks, or the staleness model's.
inline PolicyLoop scenario_loop(const Scenario& s) {
  if (s.learning.enabled()) return PolicyLoop::learning;
  return s.staleness.model == StalenessModel::source ? PolicyLoop::source : PolicyLoop::users;
}

// Throws InputError naming gossip.policy (or the key a policy's own check names) when the
// scenario's policy does not run in the scenario's loop or does not fit it.
template <class... P>
void check_policy_in(const Scenario& s, engine::PolicyList<P...>) {
  using Check = void (*)(const Scenario&);
  constexpr std::array<Check, sizeof...(P)> checks{[] {
    if constexpr (requires(const Scenario& x) { P::check(x); }) return Check{&P::check};
    else return Check{nullptr};
  }()...};
  const GossipPolicyInfo& info = gossip_policy_infos[s.gossip.policy.index];
  if (!info.runs_in(scenario_loop(s))) {
    std::string where;
    for (const auto& [runs, what] : {std::pair{info.source, "the source model (staleness.model = \"source\")"},
                                     std::pair{info.users, "the users model (staleness.model = \"users\")"},
                                     std::pair{info.learning, "learning (model.kind)"}})
      if (runs) where += (where.empty() ? "" : ", ") + std::string(what);
    const std::string_view here = scenario_loop(s) == PolicyLoop::source ? "the source model"
                                  : scenario_loop(s) == PolicyLoop::users ? "the users model"
                                                                          : "learning";
    throw InputError("gossip.policy: \"" + std::string(info.name) + "\" runs in " + where + ", not in " +
                     std::string(here));
  }
  if (const Check check = checks[s.gossip.policy.index]) check(s);
}
inline void check_gossip_policy(const Scenario& s) { check_policy_in(s, engine::GossipPolicies{}); }

}  // namespace timely::sim
