// The scenario-key table: one row per key, with its name, what it accepts, its meaning, its
// setter and its JSON getter (docs/interface.md lists the same keys). A key's accepted values
// are written once, as an Accepts made by one of the constructors below: the text of --help
// and of errors and the setter's check both come from it.
#include "experiments/scenario_key_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <fmt/format.h>
#include <string>

#include "sim/choices.hpp"
#include "sim/churn.hpp"
#include "sim/gossip_policy.hpp"
#include "sim/input_error.hpp"
#include "sim/protocols.hpp"
#include "sim/user_clocks.hpp"

namespace timely::experiments::key_table {

using sim::Scenario;

namespace {

// One bound as --help writes it: an integer key's in full; a number in printf's %g with a
// short exponent (1e9, 1e-9 rather than 1e+09, 1e-09), or in full where %g would round it.
std::string bound_text(double x, bool integers) {
  if (integers) return fmt::format("{}", static_cast<std::int64_t>(x));
  const std::string text = fmt::format("{:g}", x);
  double back = 0.0;
  std::from_chars(text.data(), text.data() + text.size(), back);
  if (back != x) return fmt::format("{}", x);
  const auto e = text.find('e');
  if (e == std::string::npos) return text;
  std::string out = text.substr(0, e + 1), digits = text.substr(e + 1);
  if (digits.front() == '-') out += '-';
  if (digits.front() == '-' || digits.front() == '+') digits.erase(0, 1);
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
  return out + digits;
}

}  // namespace

std::string range_text(const Range& r, bool integers) {
  if (std::isinf(r.hi) || r.unsaid_hi) return fmt::format("{} {}", r.open_lo ? ">" : ">=", bound_text(r.lo, integers));
  return fmt::format("in {}{}, {}{}", r.open_lo ? '(' : '[', bound_text(r.lo, integers), bound_text(r.hi, integers),
                     r.open_hi ? ')' : ']');
}

namespace {

// ---- what a key accepts: each constructor makes the text from the bounds it checks ------

// The texts are kept for the program's life (KeyInfo holds views of them); filled once,
// when the registry is built.
std::string_view keep(std::string text) {
  static std::deque<std::string> texts;  // stable addresses
  return texts.emplace_back(std::move(text));
}

// "an integer in [lo, hi]"; `note` follows, e.g. " (0 = all users)".
Accepts integers(std::int64_t lo, std::int64_t hi, std::string_view note = "") {
  const Range range = closed(static_cast<double>(lo), static_cast<double>(hi));
  return {keep(fmt::format("an integer {}{}", range_text(range, true), note)), Kind::integer, range};
}
// "an integer >= lo", refusing more than `ceiling` all the same.
Accepts integers_from(std::int64_t lo, std::int64_t ceiling, std::string_view note = "") {
  Range range = closed(static_cast<double>(lo), static_cast<double>(ceiling));
  range.unsaid_hi = true;
  return {keep(fmt::format("an integer {}{}", range_text(range, true), note)), Kind::integer, range};
}
// "a number in [lo, hi]", "a number > lo", ...; `noun` may say more ("a probability").
Accepts numbers(Range range, std::string_view note = "", std::string_view noun = "a number") {
  return {keep(fmt::format("{} {}{}", noun, range_text(range, false), note)), Kind::number, range};
}
// A number in the range, or a distribution table drawn per user (sim/user_clocks.hpp).
Accepts numbers_or_law(Range range, std::string_view laws = "") {
  return {keep(fmt::format("a number {} or a distribution table{}", range_text(range, false), laws)), Kind::per_user, range};
}
// A list of widths, each in the range (its ceiling unsaid).
Accepts widths(std::int64_t lo, std::int64_t ceiling) {
  Range range = closed(static_cast<double>(lo), static_cast<double>(ceiling));
  range.unsaid_hi = true;
  return {keep(fmt::format("a list of widths {}, e.g. [128, 64]", range_text(range, true))), Kind::integer_list, range};
}
Accepts seeds() {
  return {keep(fmt::format("an integer in [0, {}]", std::numeric_limits<std::uint64_t>::max())), Kind::seed, {}};
}
Accepts flags() { return {"true or false", Kind::boolean, {}}; }
Accepts words(std::string_view text) { return {text, Kind::string, {}}; }  // a path or a directory
template <class E>
Accepts choices(const sim::ChoiceTable<E>& table) {
  return {keep(table.accepted()), Kind::string, {}};
}

constexpr std::int64_t max_users = 100'000'000;  // 400 MB of versions in the source model
constexpr std::int64_t max_count = 1'000'000'000;

// ---- the setters' checks: the value's type, then the key's Range -------------------------

std::int64_t integer(const Value& v, const Key& k) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  reject(k, show(v));
}

// An integer key's value, in its range (every integer key is a 32-bit count).
std::uint32_t count(const Value& v, const Key& k) {
  const std::int64_t x = integer(v, k);
  if (!k.accepts.range.contains(static_cast<double>(x))) reject(k, show(v));
  return static_cast<std::uint32_t>(x);
}

// A number key's value: finite and in its range.
double number(const Value& v, const Key& k) {
  double x;
  if (const auto* i = std::get_if<std::int64_t>(&v)) x = static_cast<double>(*i);
  else if (const auto* d = std::get_if<double>(&v)) x = *d;
  else reject(k, show(v));
  if (!std::isfinite(x) || !k.accepts.range.contains(x)) reject(k, show(v));
  return x;
}

bool flag(const Value& v, const Key& k) {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  reject(k, show(v));
}

const std::string& text(const Value& v, const Key& k) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  reject(k, show(v));
}

template <class E>
E choice(const Value& v, const Key& k, const sim::ChoiceTable<E>& table) {
  const auto parsed = table.parse(text(v, k));
  if (!parsed) reject(k, show(v));
  return *parsed;
}

std::vector<int> positive_list(const Value& v, const Key& k) {
  const auto* list = std::get_if<std::vector<std::int64_t>>(&v);
  if (!list || list->empty()) reject(k, show(v));
  std::vector<int> out;
  for (std::int64_t x : *list) {
    if (!k.accepts.range.contains(static_cast<double>(x))) reject(k, show(v));
    out.push_back(static_cast<int>(x));
  }
  return out;
}

// A per-user key: a number in its range (returned) or a distribution (stored in `law`; the
// reader checked its fields against the same range).
double per_user(const Value& v, const Key& k, std::optional<sim::Distribution>& law) {
  if (const auto* d = std::get_if<sim::Distribution>(&v)) {
    law = *d;
    return d->mean();  // for work estimates; the clocks use the drawn values
  }
  law.reset();
  return number(v, k);
}

using Json = nlohmann::ordered_json;

// A policy key's effective value where the scenario's policy reads it, else null.
template <class F>
Json policy_value(const Scenario& s, std::string_view key, F&& value) {
  return sim::policy_reads(s.gossip.policy, key) ? value() : Json();
}


Json per_user_json(double value, const std::optional<sim::Distribution>& law) {
  if (!law) return value;
  Json j;
  j["dist"] = sim::to_string(law->kind);
  switch (law->kind) {
    case sim::DistributionKind::uniform: j["low"] = law->a; j["high"] = law->b; break;
    case sim::DistributionKind::lognormal: j["median"] = law->a; j["sigma"] = law->b; break;
    case sim::DistributionKind::two_point: j["value"] = law->a; j["slow_value"] = law->b; j["slow_fraction"] = law->c; break;
    case sim::DistributionKind::exponential: j["mean"] = law->a; break;
  }
  return j;
}

Json optional_path(const std::string& path) { return path.empty() ? Json(nullptr) : Json(path); }
Json optional_number(const std::optional<double>& x) { return x ? Json(*x) : Json(nullptr); }

double effective_p(const Scenario& s) {
  if (s.network.p > 0.0) return s.network.p;
  const double n = s.network.n;
  return std::min(1.0, 2.0 * std::log(n) / n);
}

}  // namespace

const std::vector<Key>& registry() {
  using S = Scenario;
  static const std::vector<Key> keys = {
      {"network.n", integers(2, max_users), "number of users (default 100)",
       [](S& s, const Value& v, const Key& k) { s.network.n = count(v, k); },
       [](const S& s) -> Json { return s.network.n; }, "n = {}"},
      {"network.topology", choices(sim::topologies()), "graph on which users gossip (default complete)",
       [](S& s, const Value& v, const Key& k) { s.network.topology = choice(v, k, sim::topologies()); },
       [](const S& s) -> Json { return sim::to_string(s.network.topology); }, "{}"},
      {"network.degree", integers_from(1, max_users), "degree of the random-regular graph (default 8)",
       [](S& s, const Value& v, const Key& k) { s.network.degree = count(v, k); },
       [](const S& s) -> Json { return s.network.degree; }, "degree {}"},
      {"network.p", numbers(open_closed(0.0, 1.0), "", "a probability"),
       "edge probability of erdos-renyi, resampled until connected (default 2 ln n / n)",
       [](S& s, const Value& v, const Key& k) { s.network.p = number(v, k); },
       [](const S& s) -> Json { return effective_p(s); }, "p = {}"},
      {"network.dimensions", integers(2, 16), "torus: dimensions d, n = side^d with side >= 3 (default 2)",
       [](S& s, const Value& v, const Key& k) { s.network.dimensions = count(v, k); },
       [](const S& s) -> Json { return s.network.dimensions; }, "{}-D"},
      {"network.reach", integers_from(1, max_users, " and < network.n / 2"),
       "generalized-ring: neighbours on each side, f (default 2, or from network.reach_exponent)",
       [](S& s, const Value& v, const Key& k) { s.network.reach = count(v, k); },
       [](const S& s) -> Json {
         return s.network.topology == sim::TopologyKind::generalized_ring ? Json(s.network.reach_users()) : Json();
       }, "f = {}"},
      {"network.reach_exponent", numbers(closed_open(0.0, 1.0)),
       "generalized-ring: f = round(n^a) neighbours on each side (default none: network.reach)",
       [](S& s, const Value& v, const Key& k) { s.network.reach_exponent = number(v, k); },
       [](const S& s) -> Json { return s.network.reach_exponent ? Json(*s.network.reach_exponent) : Json(); }, "f = n^{}"},
      {"network.left", integers_from(1, max_users, " and < network.n"),
       "bipartite: users on the left side of K_{L, n-L} (default floor(n / 2))",
       [](S& s, const Value& v, const Key& k) { s.network.left = count(v, k); },
       [](const S& s) -> Json {
         return s.network.topology == sim::TopologyKind::bipartite ? Json(s.network.left.value_or(s.network.n / 2))
                                                                   : Json();
       }, "{} on the left"},
      {"network.clusters", integers_from(1, max_users, " and at most floor(network.n / 2^network.levels)"),
       "clustered: top-level clusters m (default round(sqrt n), or from network.clusters_exponent)",
       [](S& s, const Value& v, const Key& k) { s.network.clusters = count(v, k); },
       [](const S& s) -> Json {  // null where network.clusters_exponent gives m = round(n^c), which varies with n
         return s.network.topology == sim::TopologyKind::clustered && s.network.clusters ? Json(*s.network.clusters)
                                                                                        : Json();
       }, "{} clusters"},
      {"network.clusters_exponent", numbers(open_closed(0.0, 1.0)),
       "clustered: m = max(1, round(n^c)) top-level clusters instead of network.clusters (default 0.5)",
       [](S& s, const Value& v, const Key& k) { s.network.clusters_exponent = number(v, k); },
       [](const S& s) -> Json {  // c of m = round(n^c): null where a fixed network.clusters gives m
         return s.network.topology == sim::TopologyKind::clustered && !s.network.clusters
                    ? Json(s.network.clusters_growth())
                    : Json();
       }, "m = n^{}"},
      {"network.levels", integers(1, 20, " and 2^levels <= network.n"),
       "clustered: nesting levels L of every cluster (default 1)",
       [](S& s, const Value& v, const Key& k) { s.network.levels = count(v, k); },
       [](const S& s) -> Json {
         return s.network.topology == sim::TopologyKind::clustered ? Json(s.network.levels) : Json();
       }, "{} levels"},
      {"network.inside", choices(sim::cluster_insides()), "clustered: the graph among a cluster's members (default ring)",
       [](S& s, const Value& v, const Key& k) { s.network.inside = choice(v, k, sim::cluster_insides()); },
       [](const S& s) -> Json {
         return s.network.topology == sim::TopologyKind::clustered ? Json(sim::to_string(s.network.inside)) : Json();
       }, "{} inside"},
      {"network.head_ring", flags(), "clustered: the top-level heads form a ring (default false)",
       [](S& s, const Value& v, const Key& k) { s.network.head_ring = flag(v, k); },
       [](const S& s) -> Json {
         return s.network.topology == sim::TopologyKind::clustered ? Json(s.network.head_ring) : Json();
       }, "heads in a ring|heads apart"},
      {"network.edges_file", words("a path to an edge list (one 'i j [weight]' per line, ids from 0)"),
       "edge list for topology edges (default none)",
       [](S& s, const Value& v, const Key& k) { s.network.edges_file = text(v, k); },
       [](const S& s) -> Json { return optional_path(s.network.edges_file); }},
      {"gossip.capacity", numbers_or_law(rates),
       "capacity factor kappa: each user gossips at rate kappa*g(n); a table draws kappa_i per user (default 1)",
       [](S& s, const Value& v, const Key& k) { s.gossip.capacity = per_user(v, k, s.gossip.capacity_law); },
       [](const S& s) -> Json { return per_user_json(s.gossip.capacity, s.gossip.capacity_law); }, "kappa = {}"},
      {"gossip.scaling", choices(sim::capacity_scalings()), "g(n) = 1, ln n, n or n^gossip.exponent (default constant)",
       [](S& s, const Value& v, const Key& k) { s.gossip.scaling = choice(v, k, sim::capacity_scalings()); },
       [](const S& s) -> Json { return sim::to_string(s.gossip.scaling); }, "{} capacity"},
      {"gossip.exponent", numbers(closed(theory::min_power_exponent, theory::max_power_exponent)),
       "exponent a of gossip.scaling = power: capacity kappa n^a (default 0.5)",
       [](S& s, const Value& v, const Key& k) { s.gossip.exponent = number(v, k); },
       [](const S& s) -> Json { return s.gossip.exponent; }, "g(n) = n^{}"},
      {"gossip.mode", choices(sim::gossip_modes()), "who merges on a contact (default push)",
       [](S& s, const Value& v, const Key& k) { s.gossip.mode = choice(v, k, sim::gossip_modes()); },
       [](const S& s) -> Json { return sim::to_string(s.gossip.mode); }, "{} gossip"},
      {"gossip.policy", choices(sim::gossip_policies()), "who gossips when (default uniform)",
       [](S& s, const Value& v, const Key& k) { s.gossip.policy = choice(v, k, sim::gossip_policies()); },
       [](const S& s) -> Json { return sim::gossip_policies().name(s.gossip.policy); }, "{} policy"},
      // ---- the policies' own keys (docs/model.md §1.1); each refused unless the policy reads it ----
      {"gossip.fanout", integers_from(1, max_users, " and < network.n"),
       "fanout: users each local update is pushed to (default round(kappa g(n) / r) in [1, n-1])",
       [](S& s, const Value& v, const Key& k) { s.gossip.fanout = count(v, k); },
       [](const S& s) -> Json { return policy_value(s, "gossip.fanout", [&] { return Json(s.fanout_users()); }); }, "fanout {}"},
      {"gossip.burst_rate", numbers(rates), "burst: a user's gossip rate while it bursts (default n kappa g(n), the whole budget)",
       [](S& s, const Value& v, const Key& k) { s.gossip.burst_rate = number(v, k); },
       [](const S& s) -> Json { return policy_value(s, "gossip.burst_rate", [&] { return Json(s.burst_rate()); }); }},
      {"gossip.burst_time", numbers(open_closed(0.0, 1e9)),
       "burst: how long a user bursts after something new (default 2 kappa g(n) / (nu burst_rate), nu = min(source.rate, source.push_rate) or r)",
       [](S& s, const Value& v, const Key& k) { s.gossip.burst_time = number(v, k); },
       [](const S& s) -> Json { return policy_value(s, "gossip.burst_time", [&] { return Json(s.burst_time()); }); }},
      {"gossip.asuman_delay", numbers(times),
       "asuman: a user's timer after a source update, per version of its age (default 0.1 / source.rate)",
       [](S& s, const Value& v, const Key& k) { s.gossip.asuman_delay = number(v, k); },
       [](const S& s) -> Json { return policy_value(s, "gossip.asuman_delay", [&] { return Json(s.asuman_delay()); }); }},
      {"gossip.asuman_share", numbers(closed(0.0, 1.0)),
       "asuman: share of the budget spent by the timers' winners; the rest is blind gossip (default 1)",
       [](S& s, const Value& v, const Key& k) { s.gossip.asuman_share = number(v, k); },
       [](const S& s) -> Json { return policy_value(s, "gossip.asuman_share", [&] { return Json(s.asuman_share()); }); }},
      // ---- the links (docs/model.md §7); every default keeps contacts instantaneous ----
      {"gossip.latency", numbers_or_law(times, " (exponential, uniform, lognormal, two-point)"),
       "propagation delay of every message; a table draws it per message (default 0)",
       [](S& s, const Value& v, const Key& k) { s.gossip.latency = per_user(v, k, s.gossip.latency_law); },
       [](const S& s) -> Json { return per_user_json(s.gossip.latency, s.gossip.latency_law); }, "latency {}"},
      {"gossip.message_bytes", numbers(closed(0.0, 1e15), " (0 = the default)"),
       "bytes of a staleness-only message; 0 = a vector clock of 4 n bytes; learning sends the model's parameters instead (default 0)",
       [](S& s, const Value& v, const Key& k) { s.gossip.message_bytes = number(v, k); },
       [](const S& s) -> Json { return s.gossip.message_bytes; }},
      {"gossip.bandwidth", numbers_or_law(closed(0.0, 1e18), " (0 = unlimited)"),
       "uplink bytes per time unit of every user; a transfer takes message_bytes / bandwidth; a table draws B_i per user, at least 1 (default 0 = unlimited)",
       [](S& s, const Value& v, const Key& k) {
         s.gossip.bandwidth = per_user(v, k, s.gossip.bandwidth_law);
         if (s.gossip.bandwidth_law && !(s.gossip.bandwidth > 0.0))
           throw InputError(fmt::format("{}: a distribution of uplinks needs a mean above 0 (for no transfer time give 0)", k.name));
       },
       [](const S& s) -> Json { return per_user_json(s.gossip.bandwidth, s.gossip.bandwidth_law); }, "bandwidth {}"},
      {"gossip.busy", choices(sim::busy_policies()), "what a gossip tick does while the uplink is sending (default queue)",
       [](S& s, const Value& v, const Key& k) { s.gossip.busy = choice(v, k, sim::busy_policies()); },
       [](const S& s) -> Json { return sim::to_string(s.gossip.busy); }},
      {"gossip.loss", numbers(closed_open(0.0, 1.0)), "probability that a message is lost, independently of all else (default 0)",
       [](S& s, const Value& v, const Key& k) { s.gossip.loss = number(v, k); },
       [](const S& s) -> Json { return s.gossip.loss; }, "loss {}"},
      {"updates.rate", numbers_or_law(rates), "rate mu of each user's local-update clock; a table draws mu_i per user (default 1)",
       [](S& s, const Value& v, const Key& k) { s.updates.rate = per_user(v, k, s.updates.rate_law); },
       [](const S& s) -> Json { return per_user_json(s.updates.rate, s.updates.rate_law); }, "mu = {}"},
      {"updates.delay", numbers_or_law(times),
       "deterministic part c of the update interval c + Exp(mu); a table draws c_i per user (default 0)",
       [](S& s, const Value& v, const Key& k) { s.updates.delay = per_user(v, k, s.updates.delay_law); },
       [](const S& s) -> Json { return per_user_json(s.updates.delay, s.updates.delay_law); }},
      {"users.file",
       words("a path to a users CSV file (header naming update_rate, update_delay, gossip_capacity; one row per user)"),
       "per-user clocks, one row per user in user order; a missing column takes the scenario value (default none)",
       [](S& s, const Value& v, const Key& k) {
         s.users.file = text(v, k);
         s.users.table = s.users.file.empty() ? nullptr : sim::read_users_file(s.users.file);
       },
       [](const S& s) -> Json { return optional_path(s.users.file); }},
      // ---- churn (docs/model.md §7.3) ----
      {"churn.model", choices(sim::churn_models()), "online and offline periods of the users (default none)",
       [](S& s, const Value& v, const Key& k) { s.churn.model = choice(v, k, sim::churn_models()); },
       [](const S& s) -> Json { return sim::to_string(s.churn.model); }, "{} churn"},
      {"churn.online_mean", numbers(rates), "markov: mean online period (default 100)",
       [](S& s, const Value& v, const Key& k) { s.churn.online_mean = number(v, k); },
       [](const S& s) -> Json { return s.churn.online_mean; }},
      {"churn.offline_mean", numbers(rates), "markov: mean offline period (default 10)",
       [](S& s, const Value& v, const Key& k) { s.churn.offline_mean = number(v, k); },
       [](const S& s) -> Json { return s.churn.offline_mean; }},
      {"churn.trace_file", words("a path to a churn trace CSV file (header user,start,end; one online interval per line)"),
       "trace: each user's online intervals (default none)",
       [](S& s, const Value& v, const Key& k) {
         s.churn.trace_file = text(v, k);
         s.churn.trace = s.churn.trace_file.empty() ? nullptr : sim::read_churn_trace(s.churn.trace_file);
       },
       [](const S& s) -> Json { return optional_path(s.churn.trace_file); }},
      {"churn.offline_updates", flags(), "offline users keep making local updates (default true)",
       [](S& s, const Value& v, const Key& k) { s.churn.offline_updates = flag(v, k); },
       [](const S& s) -> Json { return s.churn.offline_updates; }},
      {"staleness.model", choices(sim::staleness_models()),
       "users: every user is a source; source: Yates' external source (default users)",
       [](S& s, const Value& v, const Key& k) { s.staleness.model = choice(v, k, sim::staleness_models()); },
       [](const S& s) -> Json { return sim::to_string(s.staleness.model); }, "{} model"},
      {"staleness.tracked", integers_from(0, max_users, " (0 = all users)"),
       "sources K tracked in the users model (default 0 = all)",
       [](S& s, const Value& v, const Key& k) { s.staleness.tracked = count(v, k); },
       [](const S& s) -> Json { return s.tracked_sources(); }, "K = {}"},
      {"staleness.bound", integers_from(0, max_count),
       "bound B: reports the fraction of time the worst staleness exceeds B (default 10)",
       [](S& s, const Value& v, const Key& k) { s.staleness.bound = count(v, k); },
       [](const S& s) -> Json { return s.staleness.bound; }},
      {"source.rate", numbers(rates), "lambda_e, version rate of the external source (default 1)",
       [](S& s, const Value& v, const Key& k) { s.source.rate = number(v, k); },
       [](const S& s) -> Json { return s.source.rate; }, "lambda_e = {}"},
      {"source.push_rate", numbers(rates), "lambda_0, total rate of the source's pushes to random users (default 1)",
       [](S& s, const Value& v, const Key& k) { s.source.push_rate = number(v, k); },
       [](const S& s) -> Json { return s.source.push_rate; }, "lambda_0 = {}"},
      {"source.targets", choices(sim::source_targets()),
       "whom the source's pushes go to: every user, or the clustered graph's top-level heads (default all)",
       [](S& s, const Value& v, const Key& k) { s.source.targets = choice(v, k, sim::source_targets()); },
       [](const S& s) -> Json { return sim::to_string(s.source.targets); }, "pushes to {}"},
      {"run.horizon", numbers(above(0.0)), "simulated time per trial (default 1000)",
       [](S& s, const Value& v, const Key& k) { s.run.horizon = number(v, k); },
       [](const S& s) -> Json { return s.run.horizon; }, "horizon {}"},
      {"run.warmup", numbers(at_least(0.0), " and below run.horizon, or \"auto\""),
       "time discarded before averaging; \"auto\": ln 100 times the expected age, from the run's theory, or without "
       "theory from a pilot that doubles its horizon until the mean stops rising (default 100)",
       [](S& s, const Value& v, const Key& k) {
         s.run.warmup_chosen = false;
         if (const auto* text = std::get_if<std::string>(&v); text && *text == "auto") {
           s.run.warmup_auto = true;
           return;
         }
         s.run.warmup_auto = false;
         s.run.warmup = number(v, k);
       },
       [](const S& s) -> Json { return s.run.warmup_auto ? Json("auto") : Json(s.run.warmup); }, "warm-up {}"},
      {"run.trials", integers(1, 1'000'000), "independent trials (default 16)",
       [](S& s, const Value& v, const Key& k) { s.run.trials = count(v, k); },
       [](const S& s) -> Json { return s.run.trials; }},
      {"run.seed", seeds(),
       "master seed; trial t uses the stream (seed, t); sweep point p uses seed + p (mod 2^64) (default 1)",
       [](S& s, const Value& v, const Key& k) {
         if (const auto* u = std::get_if<std::uint64_t>(&v)) s.run.seed = *u;
         else if (const auto* i = std::get_if<std::int64_t>(&v); i && *i >= 0) s.run.seed = static_cast<std::uint64_t>(*i);
         else if (const auto* t = std::get_if<std::string>(&v); t && parse_u64(*t)) s.run.seed = *parse_u64(*t);
         else reject(k, show(v));
       },
       [](const S& s) -> Json { return s.run.seed; }},
      // ---- learning mode (docs/model.md §4-5) ----
      {"model.kind", choices(sim::model_kinds()), "learning model; none = staleness only (default none)",
       [](S& s, const Value& v, const Key& k) { s.learning.model.kind = choice(v, k, sim::model_kinds()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.model.kind); }, "{} model"},
      {"model.hidden", widths(1, 100000), "hidden layer widths of the MLP (default [128, 64])",
       [](S& s, const Value& v, const Key& k) { s.learning.model.hidden = positive_list(v, k); },
       [](const S& s) -> Json { return s.learning.model.hidden; }},
      {"model.activation", choices(sim::activations()), "MLP hidden activation (default relu)",
       [](S& s, const Value& v, const Key& k) { s.learning.model.activation = choice(v, k, sim::activations()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.model.activation); }},
      {"model.init", choices(sim::initialisations()), "weight initialisation, each user independently (default xavier)",
       [](S& s, const Value& v, const Key& k) { s.learning.model.init = choice(v, k, sim::initialisations()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.model.init); }},
      {"data.source", choices(sim::data_sources()), "data set (default synthetic-mixture)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.source = choice(v, k, sim::data_sources()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.data.source); }},
      {"data.partition", choices(sim::partitions()), "how training data is split over users (default iid)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.partition = choice(v, k, sim::partitions()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.data.partition); }, "{} partition"},
      {"data.alpha", numbers(above(0.0)), "Dirichlet concentration of the label skew (default 0.5)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.alpha = number(v, k); },
       [](const S& s) -> Json { return s.learning.data.alpha; }, "alpha = {}"},
      {"data.shards_per_user", integers(1, max_count), "sorted-label shards per user for partition shards (default 2)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.shards_per_user = count(v, k); },
       [](const S& s) -> Json { return s.learning.data.shards_per_user; }},
      {"data.features", integers(1, 100000), "features of the synthetic sets (default 20)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.features = count(v, k); },
       [](const S& s) -> Json { return s.learning.data.features; }},
      {"data.classes", integers(2, 1000), "classes of the synthetic mixture; the modulus (answers) of synthetic-arithmetic (default 10)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.classes = count(v, k); },
       [](const S& s) -> Json { return s.learning.data.classes; }},
      {"data.train_samples", integers(0, 10'000'000),
       "training samples; 0 = 20000 synthetic or all of Fashion-MNIST (default 0)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.train_samples = count(v, k); },
       [](const S& s) -> Json { return s.learning.data.train_samples; }},
      {"data.test_samples", integers(0, 10'000'000), "test samples; 0 = 5000 synthetic or all of Fashion-MNIST (default 0)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.test_samples = count(v, k); },
       [](const S& s) -> Json { return s.learning.data.test_samples; }},
      {"data.spread", numbers(closed(0.0, 1e6)),
       "heterogeneity: sd of the quadratic optima a_i, or of each regression user's theta_i* around theta* (default 0)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.spread = number(v, k); },
       [](const S& s) -> Json { return s.learning.data.spread; }},
      {"data.noise", numbers(closed(0.0, 1e6)), "noise sd of the synthetic regression (default 0.1)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.noise = number(v, k); },
       [](const S& s) -> Json { return s.learning.data.noise; }},
      {"data.target", choices(sim::regression_targets()),
       "law of the synthetic regression's targets: W* x + b*, or a fixed random tanh teacher network (default linear)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.target = choice(v, k, sim::regression_targets()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.data.target); }},
      {"data.teacher_hidden", integers(1, 100000), "hidden width of the teacher network of data.target = teacher (default 32)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.teacher_hidden = count(v, k); },
       [](const S& s) -> Json { return s.learning.data.teacher_hidden; }},
      {"data.separation", numbers(open_closed(0.0, 1e6)), "sd of the class means of the synthetic mixture (default 3)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.separation = number(v, k); },
       [](const S& s) -> Json { return s.learning.data.separation; }},
      {"data.dir", words("a directory"), "where Fashion-MNIST's gzip IDX files are (default /usr/share/datasets/fashion-mnist)",
       [](S& s, const Value& v, const Key& k) { s.learning.data.dir = text(v, k); },
       [](const S& s) -> Json { return s.learning.data.dir; }},
      {"train.steps", integers(0, 100000), "SGD steps per local update, tau; 0 = no training (default 1)",
       [](S& s, const Value& v, const Key& k) { s.learning.train.steps = count(v, k); },
       [](const S& s) -> Json { return s.learning.train.steps; }, "tau = {}"},
      {"train.batch", integers(1, 4096), "mini-batch size (default 32)",
       [](S& s, const Value& v, const Key& k) { s.learning.train.batch = count(v, k); },
       [](const S& s) -> Json { return s.learning.train.batch; }, "batch {}"},
      {"train.lr", numbers(above(0.0)), "step size (default 0.05)",
       [](S& s, const Value& v, const Key& k) { s.learning.train.lr = number(v, k); },
       [](const S& s) -> Json { return s.learning.train.lr; }, "lr = {}"},
      {"train.schedule", choices(sim::lr_schedules()), "step-size schedule in simulated time (default constant)",
       [](S& s, const Value& v, const Key& k) { s.learning.train.schedule = choice(v, k, sim::lr_schedules()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.train.schedule); }},
      {"train.decay_time", numbers(above(0.0)), "inverse-time schedule: lr / (1 + t / decay_time) (default 100)",
       [](S& s, const Value& v, const Key& k) { s.learning.train.decay_time = number(v, k); },
       [](const S& s) -> Json { return s.learning.train.decay_time; }},
      {"train.step_time", numbers(above(0.0)), "step schedule: lr * step_factor^floor(t / step_time) (default 100)",
       [](S& s, const Value& v, const Key& k) { s.learning.train.step_time = number(v, k); },
       [](const S& s) -> Json { return s.learning.train.step_time; }},
      {"train.step_factor", numbers(open_closed(0.0, 1.0)), "step schedule factor (default 0.5)",
       [](S& s, const Value& v, const Key& k) { s.learning.train.step_factor = number(v, k); },
       [](const S& s) -> Json { return s.learning.train.step_factor; }},
      {"train.momentum", numbers(closed_open(0.0, 1.0)), "heavy-ball momentum; 0 = plain SGD (default 0)",
       [](S& s, const Value& v, const Key& k) { s.learning.train.momentum = number(v, k); },
       [](const S& s) -> Json { return s.learning.train.momentum; }},
      {"learning.protocol", choices(sim::learning_protocols()),
       "how the users' models learn together (default gossip; mixing.rule = \"fedavg\" is an alias of fedavg)",
       [](S& s, const Value& v, const Key& k) { s.learning.protocol = choice(v, k, sim::learning_protocols()); },
       [](const S& s) -> Json { return sim::learning_protocols().name(s.learning.protocol); }, "{}"},
      // ---- MoDeST's rounds (docs/model.md §4.1); refused unless learning.protocol = "modest" ----
      {"modest.sample", integers_from(1, max_users, " and at most network.n"), "MoDeST: users that train each round (default 10)",
       [](S& s, const Value& v, const Key& k) { s.learning.modest.sample = count(v, k); },
       [](const S& s) -> Json { return s.learning.modest.sample; }, "MoDeST s = {}"},
      {"modest.aggregators", integers_from(1, max_users), "MoDeST: users that average each round's models (default 1)",
       [](S& s, const Value& v, const Key& k) { s.learning.modest.aggregators = count(v, k); },
       [](const S& s) -> Json { return s.learning.modest.aggregators; }, "MoDeST a = {}"},
      {"modest.success_fraction", numbers(open_closed(0.0, 1.0)),
       "MoDeST: an aggregator averages once floor(sample * this) models have arrived (default 0.8)",
       [](S& s, const Value& v, const Key& k) { s.learning.modest.success_fraction = number(v, k); },
       [](const S& s) -> Json { return s.learning.modest.success_fraction; }},
      {"modest.min_models", integers_from(1, max_users),
       "MoDeST: at its timeout an aggregator averages if at least this many models arrived, else the round is abandoned (default 3)",
       [](S& s, const Value& v, const Key& k) { s.learning.modest.min_models = count(v, k); },
       [](const S& s) -> Json { return s.learning.modest.min_models; }},
      {"modest.timeout", numbers(open_closed(0.0, 1e9)),
       "MoDeST: how long an aggregator waits after a round's first model arrived (default 2)",
       [](S& s, const Value& v, const Key& k) { s.learning.modest.timeout = number(v, k); },
       [](const S& s) -> Json { return s.learning.modest.timeout; }},
      {"modest.ping_timeout", numbers(open_closed(0.0, 1e9)),
       "MoDeST: how long a ping waits for an answer before the next user in the round's order is tried (default 0.1)",
       [](S& s, const Value& v, const Key& k) { s.learning.modest.ping_timeout = number(v, k); },
       [](const S& s) -> Json { return s.learning.modest.ping_timeout; }},
      // ---- SAPO's swarms (docs/model.md §4.3); refused unless learning.protocol = "sapo" ----
      {"sapo.questions", integers(1, 4096), "SAPO: questions a user answers, scores and shares at each local update (default 8)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.questions = count(v, k); },
       [](const S& s) -> Json { return s.learning.sapo.questions; }},
      {"sapo.answers", integers(2, 1024), "SAPO: answers sampled from the policy per question, one rollout (default 8)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.answers = count(v, k); },
       [](const S& s) -> Json { return s.learning.sapo.answers; }},
      {"sapo.local", integers(0, 4096, " and at most sapo.questions"),
       "SAPO: own rollouts in each training batch, I (default 4)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.local = count(v, k); },
       [](const S& s) -> Json { return s.learning.sapo.local; }, "SAPO I = {}"},
      {"sapo.external", integers(0, 4096), "SAPO: received rollouts drawn into each training batch, J (default 4)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.external = count(v, k); },
       [](const S& s) -> Json { return s.learning.sapo.external; }, "SAPO J = {}"},
      {"sapo.share_fanout", integers_from(0, max_users, " (0 = share nothing)"),
       "SAPO: users each rollout is sent to, uniformly among the user's neighbours (default: all of them)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.share_fanout = count(v, k); },
       [](const S& s) -> Json {
         return s.learning.sapo.share_fanout ? Json(*s.learning.sapo.share_fanout) : Json("all");
       }, "SAPO fanout {}"},
      {"sapo.clip_low", numbers(closed_open(0.0, 1.0)), "SAPO: GRPO's ratio is clipped below at 1 - clip_low (default 0.2)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.clip_low = number(v, k); },
       [](const S& s) -> Json { return s.learning.sapo.clip_low; }},
      {"sapo.clip_high", numbers(closed(0.0, 1e3)), "SAPO: GRPO's ratio is clipped above at 1 + clip_high (default 0.28)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.clip_high = number(v, k); },
       [](const S& s) -> Json { return s.learning.sapo.clip_high; }},
      {"sapo.specialties", integers(1, 64),
       "SAPO: task kinds of data.source = \"synthetic-arithmetic\"; user u asks only kind u mod this (default 1)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.specialties = count(v, k); },
       [](const S& s) -> Json { return s.learning.sapo.specialties; }},
      {"sapo.keep", integers(1, 1000), "SAPO: the learner's updates a received rollout stays drawable for; 1 = until its next update (default 1)",
       [](S& s, const Value& v, const Key& k) { s.learning.sapo.keep = count(v, k); },
       [](const S& s) -> Json { return s.learning.sapo.keep; }},
      {"mixing.rule", choices(sim::mixing_rules()), "how models mix on a gossip contact, or the FedAvg baseline (default average)",
       [](S& s, const Value& v, const Key& k) { s.learning.mixing.rule = choice(v, k, sim::mixing_rules()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.mixing.rule); }, "{} mixing"},
      {"mixing.fedavg_fraction", numbers(open_closed(0.0, 1.0)), "fraction of users sampled per FedAvg round (default 0.1)",
       [](S& s, const Value& v, const Key& k) { s.learning.mixing.fedavg_fraction = number(v, k); },
       [](const S& s) -> Json { return s.learning.mixing.fedavg_fraction; }, "FedAvg fraction {}"},
      {"mixing.variance_target", choices(sim::variance_targets()),
       "variance-corrected: target = mean variance of all contributing models or of the received ones (default contributing)",
       [](S& s, const Value& v, const Key& k) { s.learning.mixing.variance_target = choice(v, k, sim::variance_targets()); },
       [](const S& s) -> Json { return sim::to_string(s.learning.mixing.variance_target); }},
      {"mixing.correct_biases", flags(), "variance correction also rescales bias vectors (default false)",
       [](S& s, const Value& v, const Key& k) { s.learning.mixing.correct_biases = flag(v, k); },
       [](const S& s) -> Json { return s.learning.mixing.correct_biases; }},
      {"mixing.fedavg_variance_correction", flags(), "the FedAvg server variance-corrects its average (default false)",
       [](S& s, const Value& v, const Key& k) { s.learning.mixing.fedavg_variance_correction = flag(v, k); },
       [](const S& s) -> Json { return s.learning.mixing.fedavg_variance_correction; }},
      {"observe.every", numbers(above(0.0)), "simulated time between metric observations (default 10)",
       [](S& s, const Value& v, const Key& k) { s.learning.observe.every = number(v, k); },
       [](const S& s) -> Json { return s.learning.observe.every; }},
      {"observe.users", integers(1, max_count), "users whose own test metrics are averaged (default 8)",
       [](S& s, const Value& v, const Key& k) { s.learning.observe.users = count(v, k); },
       [](const S& s) -> Json { return s.learning.observe.users; }},
      {"observe.test_samples", integers(0, 10'000'000), "test samples per evaluation; 0 = the whole test set (default 0)",
       [](S& s, const Value& v, const Key& k) { s.learning.observe.test_samples = count(v, k); },
       [](const S& s) -> Json { return s.learning.observe.test_samples; }},
      {"observe.plateau_fraction", numbers(open_closed(0.0, 1.0)),
       "plateau delay: first time accuracy reaches this fraction of its final value, against one user training on all "
       "the data (default 0.5)",
       [](S& s, const Value& v, const Key& k) { s.learning.observe.plateau_fraction = number(v, k); },
       [](const S& s) -> Json { return s.learning.observe.plateau_fraction; }},
      {"target.accuracy", numbers(closed(0.0, 1.0)), "test accuracy whose first-passage time is reported (default 0.8)",
       [](S& s, const Value& v, const Key& k) { s.learning.target_accuracy = number(v, k); },
       [](const S& s) -> Json { return s.learning.target_accuracy; }},
      {"target.loss", numbers(closed(0.0, 1e300)),
       "test loss of the average model whose first-passage time is reported (default none)",
       [](S& s, const Value& v, const Key& k) { s.learning.target_loss = number(v, k); },
       [](const S& s) -> Json { return optional_number(s.learning.target_loss); }},
      {"target.distance", numbers(closed(0.0, 1e300)),
       "relative distance to the optimum whose first-passage time is reported (default none)",
       [](S& s, const Value& v, const Key& k) { s.learning.target_distance = number(v, k); },
       [](const S& s) -> Json { return optional_number(s.learning.target_distance); }},
  };
  return keys;
}

const Key* find_key(std::string_view name) {
  for (const Key& k : registry())
    if (k.name == name) return &k;
  return nullptr;
}

}  // namespace timely::experiments::key_table

namespace timely::experiments {

std::string value_label(std::string_view key, std::string_view value) {
  const key_table::Key* row = key_table::find_key(key);
  if (!row) return std::string(value);
  std::string_view label = row->label;
  if (label.empty()) return fmt::format("{} = {}", key.substr(key.rfind('.') + 1), value);
  if (const auto bar = label.find('|'); bar != std::string_view::npos)  // a flag: "when true|when false"
    return std::string(value == "true" ? label.substr(0, bar) : label.substr(bar + 1));
  const auto at = label.find("{}");
  return std::string(label.substr(0, at)) + std::string(value) + std::string(label.substr(at + 2));
}

}  // namespace timely::experiments

namespace timely::experiments::key_table {

std::string keys_of_table(std::string_view table) {
  std::string out;
  for (const Key& k : registry()) {
    const std::string_view name = k.name;
    if (name.substr(0, name.find('.')) != table) continue;
    if (!out.empty()) out += ", ";
    out += name.substr(name.find('.') + 1);
  }
  return out;
}

std::string table_names() {
  std::string out;
  std::string_view last;
  for (const Key& k : registry()) {
    const std::string_view table = k.name.substr(0, k.name.find('.'));
    if (table == last) continue;
    if (!out.empty()) out += ", ";
    out += table;
    last = table;
  }
  return out;
}

}  // namespace timely::experiments::key_table

namespace timely::experiments {

using key_table::Key;
using key_table::registry;
using sim::Scenario;

const std::vector<KeyInfo>& scenario_keys() {
  static const std::vector<KeyInfo> infos = [] {
    std::vector<KeyInfo> out;
    for (const Key& k : registry()) out.push_back(k.info());
    return out;
  }();
  return infos;
}

nlohmann::ordered_json scenario_json(const Scenario& scenario) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const Key& k : registry()) out[std::string(k.name)] = k.get(scenario);
  return out;
}

std::string keys_help() {
  std::string out = "Scenario keys (TOML tables, or --set table.key=value):\n";
  for (const Key& k : registry())
    out += fmt::format("  {:<20} {}\n  {:<20}   accepts {}\n", k.name, k.meaning, "", k.accepts.text);
  return out;
}

}  // namespace timely::experiments
