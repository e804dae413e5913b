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
//   actor(view, i, t, rng) -> the user who makes the contact of user i's tick (default: i),
//                          or no_contact (then partner() is not asked)
//   acquired(j, version, t) told when user j gets a newer version (the source model tells it)
//   source_updated(t, version)  told when the source makes a version (source model)
//   after_update(m, u, t, rng) -> sends: runs after every local update of user u, and may
//                          contact users through m.gossip; the loops then run every user's
//                          update clock, tracked or not, since an untracked user's update
//                          now carries tracked versions
//   static constexpr bool gossip_clocks = false   no Poisson gossip clock ticks at all
//   own_rate(), next_change(), advance(t), own_actor(rng): a clock of the policy's own whose
//                          total rate own_rate() changes only at the policy's events and at
//                          next_change(); the loops superpose it exactly (memorylessness:
//                          the next gap is redrawn whenever the rate changes)
//   static void check(const Scenario&)  throws InputError naming the key and what it accepts
//                                       when the scenario does not fit (beyond the loops)
// and draws only from the trial's engine `rng`, so results stay reproducible. The loops are
// compiled once per policy that runs in them (with_policy), so a policy costs no call per
// event. Every contact a policy makes is counted (TrialResult::gossip_sends): the spending
// that runs compare at equal budget.
#include <array>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <limits>
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

// A policy's own theory of the mean staleness (docs/model.md §1.1).
struct PolicyTheory {
  std::optional<double> staleness;  // the expected time-averaged staleness per pair, where known
  std::string_view method;          // "exact: ..." with its derivation's section, or "none: " and why
  std::string_view law;             // its growth in n, the paper's where only the law is known ("": none)
};

// What the registry says of a policy beside its behaviour.
struct GossipPolicyInfo {
  std::string_view name;         // the value of gossip.policy
  std::string_view description;  // one line, for --help, errors and the docs
  bool has_theory;               // every formula of timely theory (§3) holds for it (uniform gossip)
  bool source = true, users = true, learning = true;  // the loops it runs in
  // Otherwise its own theory, or empty for a scenario it has none for (null: never).
  std::optional<PolicyTheory> (*theory)(const Scenario&) = nullptr;
  // The policy keys (policy_keys below) it reads, space-separated; the others are refused.
  std::string_view keys = "";
  // Its spending, for the cost estimates (sim/cost.cpp): contacts per user per unit time, in
  // expectation or at most, given the users' mean update rate; null: the capacity rate kappa g(n).
  double (*contacts)(const Scenario&, double mean_update_rate) = nullptr;
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
  // Its only draw, the partner, depends on the ticking user and the graph alone, never on
  // the users' state: the loops may draw events ahead and prefetch what they will touch
  // (DrawsAhead below).
  static constexpr bool state_independent_draws = true;
  UniformGossip(const Scenario&, std::uint32_t) {}
  template <GossipView V>
  [[gnu::always_inline]] std::uint32_t partner(const V& v, std::uint32_t i, double, Rng& rng) {
    return v.graph().pick(i, rng);
  }
};

// The users holding the newest version present among the users (source model), kept as
// users acquire versions: what pilot signals (pilot) and timers (asuman) find.
class FreshestUsers {
 public:
  explicit FreshestUsers(std::uint32_t n) : users_(n) { std::iota(users_.begin(), users_.end(), 0u); }
  // Versions only grow, so a user joins the set at most once per newest version: no
  // duplicates, and at most n entries (reserved: no allocation per event).
  void acquired(std::uint32_t user, std::uint32_t version) {
    if (version > newest_) {
      newest_ = version;
      users_.clear();
    }
    if (version == newest_) users_.push_back(user);
  }
  std::uint32_t pick(Rng& rng) const {
    return users_[boost::random::uniform_int_distribution<std::uint32_t>(0, static_cast<std::uint32_t>(users_.size() - 1))(rng)];
  }
  std::uint32_t newest() const { return newest_; }
  const std::vector<std::uint32_t>& users() const { return users_; }

 private:
  std::vector<std::uint32_t> users_;  // the users holding version newest_ (all, at the start)
  std::uint32_t newest_ = 0;
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
  PilotGossip(const Scenario&, std::uint32_t n) : fresh_(n) {}
  template <GossipView V>
  std::uint32_t actor(const V&, std::uint32_t, double, Rng& rng) {
    return fresh_.pick(rng);
  }
  template <GossipView V>
  std::uint32_t partner(const V& v, std::uint32_t i, double, Rng& rng) {
    return v.graph().pick(i, rng);
  }
  void acquired(std::uint32_t user, std::uint32_t version, double) { fresh_.acquired(user, version); }

 private:
  FreshestUsers fresh_;
};

// ASUMAN (Mitra & Ulukus, "ASUMAN: Age sense updating multiple access in networks", arXiv
// 2207.07094; timely's reading of the abstract, docs/model.md §1.1). At each source update
// every user starts a timer of gossip.asuman_delay times its age (in versions); the first to
// expire, the users with the smallest age, signal, the others stay silent, and until the
// next source update those winners spend gossip.asuman_share of the budget B = n kappa g(n):
// each such tick, once the winners have signalled, one of them, drawn uniformly, pushes to
// a neighbour drawn by the graph. The rest of the budget is blind gossip. Source model only.
struct AsumanGossip {
  static std::optional<PolicyTheory> theory(const Scenario&) {
    return PolicyTheory{std::nullopt,
                        "none: the winners are frozen between source updates and start after a delay, so the "
                        "freshest users' lag is no longer a birth chain (docs/model.md §1.1)",
                        "O(1) on the complete graph (Mitra & Ulukus, arXiv 2207.07094)"};
  }
  static constexpr GossipPolicyInfo info{
      "asuman",
      "after each source update, timers proportional to each user's age find the freshest users, who then spend the "
      "budget until the next update (source model)",
      false, true, false, false, &theory, "gossip.asuman_delay gossip.asuman_share"};
  static constexpr bool always_contacts = false;
  static void check(const Scenario& s) {
    if (s.gossip.mode != GossipMode::push)
      throw InputError("gossip.mode: gossip.policy = \"asuman\" pushes from the timers' winners; expected \"push\"");
  }
  AsumanGossip(const Scenario& s, std::uint32_t n) : fresh_(n), winners_(fresh_.users()), delay_(s.asuman_delay()),
                                                      share_(s.asuman_share()) {
    winners_.reserve(n);
  }
  template <GossipView V>
  std::uint32_t actor(const V&, std::uint32_t i, double t, Rng& rng) {
    if (share_ < 1.0 && !(boost::random::uniform_01<double>()(rng) < share_)) return i;  // a blind tick
    if (t < signal_) return no_contact;  // the winners' timers are still running
    return winners_[boost::random::uniform_int_distribution<std::uint32_t>(0, static_cast<std::uint32_t>(winners_.size() - 1))(rng)];
  }
  template <GossipView V>
  std::uint32_t partner(const V& v, std::uint32_t i, double, Rng& rng) {
    return v.graph().pick(i, rng);
  }
  void acquired(std::uint32_t user, std::uint32_t version, double) { fresh_.acquired(user, version); }
  // The source made `version` at t: the smallest age is version - newest, and the users
  // holding the newest version win after delay * that age. Copies at most n entries into
  // reserved storage: no allocation.
  void source_updated(double t, std::uint32_t version) {
    winners_.assign(fresh_.users().begin(), fresh_.users().end());
    signal_ = t + delay_ * static_cast<double>(version - fresh_.newest());
  }

 private:
  FreshestUsers fresh_;
  std::vector<std::uint32_t> winners_;  // frozen at the last source update (all users at first)
  double delay_, share_;
  double signal_ = 0.0;  // when the winners have signalled
};

// The fully distributed scheme of Mitra & Ulukus (arXiv 2301.00798; timely's reading,
// docs/model.md §1.1): a user that gets something new gossips at gossip.burst_rate for
// gossip.burst_time, pushing to a neighbour drawn by the graph, and is silent otherwise.
// "New" is a newer version received (source model) or a local update made (users model and
// learning: what a user makes, since receiving is not tracked per contact). Its clock's rate,
// burst_rate times the users bursting, changes only at those events and at burst ends, so
// the loops superpose it exactly (own_rate, next_change): no thinning.
class BurstGossip {
 public:
  static std::optional<PolicyTheory> theory(const Scenario& s) {
    if (s.staleness.model == StalenessModel::source)
      return PolicyTheory{std::nullopt, "none: a user's burst depends on when it got its version (docs/model.md §1.1)",
                          "O(1) (Mitra & Ulukus, arXiv 2301.00798) when a burst pushes more than once on average (timely's reading)"};
    return PolicyTheory{std::nullopt, "none: bursts follow the sources' updates (docs/model.md §1.1)", ""};
  }
  static constexpr GossipPolicyInfo info{
      "burst",
      "a user that gets (source model) or makes (users model) something new gossips at gossip.burst_rate for "
      "gossip.burst_time, and is silent otherwise",
      false, true, true, true, &theory, "gossip.burst_rate gossip.burst_time",
      // nu R T: every piece of news starts a burst, none overlapping (the most it spends)
      [](const Scenario& s, double) { return s.news_rate() * s.burst_rate() * s.burst_time(); }};
  static constexpr bool always_contacts = true;
  static constexpr bool gossip_clocks = false;  // only the bursts' own clock
  static void check(const Scenario& s) {
    if (s.gossip.mode != GossipMode::push)
      throw InputError("gossip.mode: gossip.policy = \"burst\" pushes what is new; expected \"push\"");
    if (s.staleness.model == StalenessModel::source && !s.learning.enabled()) return;
    if (s.heterogeneous())
      throw InputError(std::string(s.first_per_user_key()) +
                       ": gossip.policy = \"burst\" runs with the same clocks for every user; expected a number");
    if (s.updates.delay > 0.0)
      throw InputError("updates.delay: gossip.policy = \"burst\" runs with Poisson update clocks; expected 0");
  }
  BurstGossip(const Scenario& s, std::uint32_t n)
      : rate_(s.burst_rate()), length_(s.burst_time()), until_(n, -1.0), slot_(n, none) {
    bursting_.reserve(n);
    ends_.reserve(n);
  }
  // The bursts' superposed clock: rate_ per bursting user, until the next burst ends.
  double own_rate() const { return rate_ * static_cast<double>(bursting_.size()); }
  double next_change() const { return head_ < ends_.size() ? ends_[head_].time : std::numeric_limits<double>::infinity(); }
  void advance(double t) {
    while (head_ < ends_.size() && ends_[head_].time <= t) {
      const End e = ends_[head_++];
      if (until_[e.user] == e.time) stop(e.user);  // not extended since
    }
    if (head_ > 1024 && 2 * head_ > ends_.size()) {  // drop what was consumed, keeping the storage
      ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  std::uint32_t own_actor(Rng& rng) const {
    return bursting_[boost::random::uniform_int_distribution<std::uint32_t>(0, static_cast<std::uint32_t>(bursting_.size() - 1))(rng)];
  }
  template <GossipView V>
  std::uint32_t partner(const V& v, std::uint32_t i, double, Rng& rng) {
    return v.graph().pick(i, rng);
  }
  void acquired(std::uint32_t user, std::uint32_t, double t) { start(user, t); }
  template <class Model>
  std::uint32_t after_update(Model&, std::uint32_t user, double t, Rng&) {
    start(user, t);
    return 0;
  }

 private:
  static constexpr std::uint32_t none = ~std::uint32_t{0};
  struct End {
    double time;
    std::uint32_t user;
  };
  // Every burst lasts length_ and starts at the current time, so ends_ is in time order; a
  // burst extended by news leaves its old end behind, skipped by advance().
  void start(std::uint32_t user, double t) {
    until_[user] = t + length_;
    ends_.push_back({until_[user], user});
    if (slot_[user] == none) {
      slot_[user] = static_cast<std::uint32_t>(bursting_.size());
      bursting_.push_back(user);
    }
  }
  void stop(std::uint32_t user) {
    const std::uint32_t last = bursting_.back();
    bursting_[slot_[user]] = last;
    slot_[last] = slot_[user];
    bursting_.pop_back();
    slot_[user] = none;
  }
  double rate_, length_;
  std::vector<double> until_;         // each user's burst end (-1: none yet)
  std::vector<std::uint32_t> slot_;   // a bursting user's place in bursting_, else none
  std::vector<std::uint32_t> bursting_;
  std::vector<End> ends_;
  std::size_t head_ = 0;
};

// Fan-out gossip (timely's; docs/model.md §1.1): at each local update a user pushes its state
// to gossip.fanout distinct uniformly chosen other users at once, and has no gossip clock.
// By default f = round(kappa g(n) / r) in [1, n-1], so capacity sweeps carry over: a user
// sends about kappa g(n) messages per unit time, as under uniform gossip. Complete graph.
class FanoutGossip {
 public:
  static std::optional<PolicyTheory> theory(const Scenario& s) {
    if (s.fanout_users() + 1 == s.network.n)
      return PolicyTheory{0.0, "exact: with f = n-1 every update reaches every user at once (docs/model.md §1.1)",
                          "0 at f = n-1"};
    return PolicyTheory{std::nullopt,
                        "none: a user's view of a source is refreshed by chains of fan-outs, each riding another "
                        "user's update (docs/model.md §1.1)",
                        ""};
  }
  static constexpr GossipPolicyInfo info{
      "fanout",
      "at each local update a user pushes to gossip.fanout distinct uniformly chosen other users; no gossip clock "
      "(users model, learning)",
      false, false, true, true, &theory, "gossip.fanout",
      [](const Scenario& s, double mean_update_rate) { return s.fanout_users() * mean_update_rate; }};
  static constexpr bool always_contacts = true;
  static constexpr bool gossip_clocks = false;
  static void check(const Scenario& s) {
    if (s.gossip.mode != GossipMode::push)
      throw InputError("gossip.mode: gossip.policy = \"fanout\" pushes each update; expected \"push\"");
    if (s.network.topology != TopologyKind::complete)
      throw InputError("network.topology: gossip.policy = \"fanout\" pushes to uniformly chosen users; expected \"complete\"");
    if (s.gossip.fanout && *s.gossip.fanout >= s.network.n)
      throw InputError("gossip.fanout: expected an integer in [1, network.n - 1 = " + std::to_string(s.network.n - 1) +
                       "], got " + std::to_string(*s.gossip.fanout));
    if (!s.gossip.fanout && s.gossip.capacity_law)
      throw InputError("gossip.capacity: gossip.policy = \"fanout\" takes one fan-out for every user; expected a "
                       "number, or give gossip.fanout");
    if (s.networked() && s.gossip.busy == BusyPolicy::drop)
      throw InputError("gossip.busy: gossip.policy = \"fanout\" sends its f messages at once, which \"drop\" would cut "
                       "to one; expected \"queue\"");
  }
  FanoutGossip(const Scenario& s, std::uint32_t n) : f_(s.fanout_users()), others_(n - 1) {
    std::iota(others_.begin(), others_.end(), 0u);
  }
  template <GossipView V>
  std::uint32_t partner(const V& v, std::uint32_t i, double, Rng& rng) {
    return v.graph().pick(i, rng);
  }
  // f distinct others of `user`, uniformly: a partial Fisher-Yates shuffle of the n-1 others
  // (entry k stands for user k, or k+1 from `user` on). Each step draws uniformly among the
  // entries not yet taken, so the set is uniform whatever order earlier updates left.
  template <class Model>
  std::uint32_t after_update(Model& m, std::uint32_t user, double t, Rng& rng) {
    const auto last = static_cast<std::uint32_t>(others_.size() - 1);
    for (std::uint32_t c = 0; c < f_; ++c) {
      std::swap(others_[c], others_[boost::random::uniform_int_distribution<std::uint32_t>(c, last)(rng)]);
      const std::uint32_t j = others_[c] + (others_[c] >= user ? 1u : 0u);
      m.gossip(user, j, t);
    }
    return f_;
  }

 private:
  std::uint32_t f_;
  std::vector<std::uint32_t> others_;
};

// ---- the registry ----------------------------------------------------------------------

template <class... P>
struct PolicyList {
  static constexpr std::size_t size = sizeof...(P);
};

// One row per policy; GossipPolicyId{k} is the k-th. The first is the default.
using GossipPolicies = PolicyList<UniformGossip, PilotGossip, AsumanGossip, BurstGossip, FanoutGossip>;
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
// contact (a merge, or through the network layer a message). Returns the contacts made (0 or 1).
template <ClockModel Model, class Policy>
  requires GossipPolicy<Policy, Model>
[[gnu::always_inline]] inline std::uint32_t gossip_tick(Model& m, Policy& policy, std::uint32_t tick, double t, Rng& rng) {
  const std::uint32_t i = tick_actor(policy, m, tick, t, rng);
  if constexpr (!Policy::always_contacts) {
    if (i == no_contact) return 0;
  }
  const std::uint32_t j = policy.partner(m, i, t, rng);
  if constexpr (!Policy::always_contacts) {
    if (j == no_contact) return 0;
  }
  m.gossip(i, j, t);
  return 1;
}

// The optional parts of a policy, as the loops test them.
template <class P>
constexpr bool has_gossip_clocks() {
  if constexpr (requires { P::gossip_clocks; }) return P::gossip_clocks;
  else return true;
}
template <class P>
concept OwnClock = requires(P& p, const P& cp, double t, Rng& rng) {
  { cp.own_rate() } -> std::convertible_to<double>;
  { cp.next_change() } -> std::convertible_to<double>;
  p.advance(t);
  { cp.own_actor(rng) } -> std::same_as<std::uint32_t>;
};

// A policy whose draws the loops may make ahead of the events (issue 29): it says so
// (state_independent_draws: partner() reads only the user, the graph and the engine, and the
// policy has no actor(), acquired() or after_update() that could change later draws), always
// contacts, ticks on the Poisson gossip clocks and has no clock of its own. The loops then
// draw a window of upcoming events, the same draws in the same order, and prefetch the
// users' state those events will touch, so that many cache misses are in flight at once.
template <class P>
concept DrawsAhead = requires {
  requires P::state_independent_draws;
} && P::always_contacts && !OwnClock<P> && has_gossip_clocks<P>();

// A local update of `user` just happened: the policy's after_update, if it has one. Returns
// its contacts.
template <class Policy, class Model>
[[gnu::always_inline]] inline std::uint32_t policy_after_update(Policy& policy, Model& m, std::uint32_t user, double t,
                                                                Rng& rng) {
  if constexpr (requires { policy.after_update(m, user, t, rng); }) return policy.after_update(m, user, t, rng);
  else return 0;
}
template <class Policy, class Model>
constexpr bool acts_after_updates() {
  return requires(Policy& p, Model& m, std::uint32_t u, double t, Rng& rng) { p.after_update(m, u, t, rng); };
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

// The policies' own keys (docs/interface.md), and whether a scenario gives each. A policy
// lists those it reads in GossipPolicyInfo::keys.
struct PolicyKey {
  std::string_view name;
  bool (*given)(const Scenario&);
};
inline constexpr std::array<PolicyKey, 5> policy_keys{{
    {"gossip.fanout", [](const Scenario& s) { return s.gossip.fanout.has_value(); }},
    {"gossip.burst_rate", [](const Scenario& s) { return s.gossip.burst_rate.has_value(); }},
    {"gossip.burst_time", [](const Scenario& s) { return s.gossip.burst_time.has_value(); }},
    {"gossip.asuman_delay", [](const Scenario& s) { return s.gossip.asuman_delay.has_value(); }},
    {"gossip.asuman_share", [](const Scenario& s) { return s.gossip.asuman_share.has_value(); }},
}};

// Whether the policy's row lists `key` among the keys it reads.
constexpr bool lists_key(const GossipPolicyInfo& info, std::string_view key) {
  std::string_view rest = info.keys;
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    if (rest.substr(0, space) == key) return true;
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
  }
  return false;
}
inline bool policy_reads(GossipPolicyId id, std::string_view key) { return lists_key(policy_info(id), key); }

// Throws InputError naming the first policy key the scenario gives that its policy does not read.
inline void check_policy_keys(const Scenario& s) {
  const GossipPolicyInfo& info = policy_info(s.gossip.policy);
  for (const PolicyKey& key : policy_keys) {
    if (!key.given(s) || lists_key(info, key.name)) continue;
    std::string readers;
    for (const GossipPolicyInfo& other : gossip_policy_infos)
      if (lists_key(other, key.name)) readers += (readers.empty() ? "\"" : " or \"") + std::string(other.name) + "\"";
    throw InputError(std::string(key.name) + ": read only by gossip.policy = " + readers + ", not by \"" +
                     std::string(info.name) + "\" (remove the key or change gossip.policy)");
  }
}

// The scenario's policy's contacts per user per unit time (GossipPolicyInfo::contacts), or
// `capacity_rate`, what uniform gossip spends.
inline double policy_contact_rate(const Scenario& s, double mean_update_rate, double capacity_rate) {
  const auto contacts = policy_info(s.gossip.policy).contacts;
  return contacts ? contacts(s, mean_update_rate) : capacity_rate;
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
  check_policy_keys(s);
  if (const Check check = checks[s.gossip.policy.index]) check(s);
}
inline void check_gossip_policy(const Scenario& s) { check_policy_in(s, engine::GossipPolicies{}); }

}  // namespace timely::sim
