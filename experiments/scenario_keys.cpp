#include "experiments/scenario_keys.hpp"

#include <charconv>
#include <deque>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sstream>
#include <toml++/toml.h>
#include <variant>

#include "sim/choices.hpp"
#include "sim/churn.hpp"
#include "sim/input_error.hpp"
#include "sim/protocols.hpp"
#include "sim/quadratic.hpp"
#include "sim/trial.hpp"
#include "sim/user_clocks.hpp"

namespace timely::experiments {
namespace {

using sim::Scenario;
using Value =
    std::variant<std::int64_t, double, std::string, bool, std::vector<std::int64_t>, std::uint64_t, sim::Distribution>;
// seed: the full unsigned 64-bit range (TOML integers stop at 2^63 - 1, so a TOML file may
// also give a seed as a string of digits). per_user: a number, or a distribution table
// drawn once per run per user (sim/user_clocks.hpp).
enum class Kind { integer, number, string, integer_list, boolean, seed, per_user };

// Keys whose value is a file path: relative to the file (scenario or sweep) that gives them.
bool is_path_key(std::string_view name) {
  return name == "network.edges_file" || name == "users.file" || name == "churn.trace_file";
}

// Per-user keys whose values are rates: their laws live in [1e-9, 1e9] and may not be
// exponential (an exponential rate has no finite mean time between ticks to speak of and is
// easily near 0). The others (updates.delay, gossip.latency) are times in [0, 1e9].
bool is_rate_key(std::string_view name) { return name == "updates.rate" || name == "gossip.capacity"; }

std::optional<std::uint64_t> parse_u64(std::string_view raw) {
  std::uint64_t x = 0;
  const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
  if (raw.empty() || ec != std::errc() || end != raw.data() + raw.size()) return std::nullopt;
  return x;
}

std::string show(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) return fmt::format("\"{}\"", x);
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) return fmt::format("[{}]", fmt::join(x, ", "));
        else if constexpr (std::is_same_v<T, std::uint64_t>) return fmt::format("{}", x);
        else if constexpr (std::is_same_v<T, sim::Distribution>) return sim::describe(x);
        else return fmt::format("{}", x);
      },
      v);
}

[[noreturn]] void reject(std::string_view key, std::string_view accepts, const std::string& got) {
  throw InputError(fmt::format("{}: expected {}, got {}", key, accepts, got));
}

struct Key {
  KeyInfo info;
  Kind kind;
  void (*set)(Scenario&, const Value&, const KeyInfo&);
  nlohmann::ordered_json (*get)(const Scenario&);
};

std::int64_t integer(const Value& v, const KeyInfo& k) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  reject(k.name, k.accepts, show(v));
}

double number(const Value& v, const KeyInfo& k) {
  double x;
  if (const auto* i = std::get_if<std::int64_t>(&v)) x = static_cast<double>(*i);
  else if (const auto* d = std::get_if<double>(&v)) x = *d;
  else reject(k.name, k.accepts, show(v));
  if (!std::isfinite(x)) reject(k.name, k.accepts, show(v));
  return x;
}

bool flag(const Value& v, const KeyInfo& k) {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  reject(k.name, k.accepts, show(v));
}

const std::string& text(const Value& v, const KeyInfo& k) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  reject(k.name, k.accepts, show(v));
}

std::int64_t integer_in(const Value& v, const KeyInfo& k, std::int64_t lo, std::int64_t hi) {
  const std::int64_t x = integer(v, k);
  if (x < lo || x > hi) reject(k.name, k.accepts, show(v));
  return x;
}

double positive(const Value& v, const KeyInfo& k) {
  const double x = number(v, k);
  if (!(x > 0.0)) reject(k.name, k.accepts, show(v));
  return x;
}

double non_negative(const Value& v, const KeyInfo& k) {
  const double x = number(v, k);
  if (!(x >= 0.0)) reject(k.name, k.accepts, show(v));
  return x;
}

template <class E>
E choice(const Value& v, const KeyInfo& k, const sim::ChoiceTable<E>& table) {
  const auto parsed = table.parse(text(v, k));
  if (!parsed) reject(k.name, k.accepts, show(v));
  return *parsed;
}

// The accepted-values text of a choice key, from its table; kept for the program's life.
template <class E>
std::string_view accepted(const sim::ChoiceTable<E>& table) {
  static std::deque<std::string> texts;  // stable addresses; filled once, when the registry is built
  return texts.emplace_back(table.accepted());
}

std::vector<int> positive_list(const Value& v, const KeyInfo& k) {
  const auto* list = std::get_if<std::vector<std::int64_t>>(&v);
  if (!list || list->empty()) reject(k.name, k.accepts, show(v));
  std::vector<int> out;
  for (std::int64_t x : *list) {
    if (x < 1 || x > 100000) reject(k.name, k.accepts, show(v));
    out.push_back(static_cast<int>(x));
  }
  return out;
}

double in_range(const Value& v, const KeyInfo& k, double lo, double hi, bool open_lo, bool open_hi) {
  const double x = number(v, k);
  if ((open_lo ? !(x > lo) : !(x >= lo)) || (open_hi ? !(x < hi) : !(x <= hi))) reject(k.name, k.accepts, show(v));
  return x;
}

// Clock rates: a denormal or astronomically large rate only makes non-finite theory and
// unbounded work, so rates live in [1e-9, 1e9].
double rate(const Value& v, const KeyInfo& k) { return in_range(v, k, 1e-9, 1e9, false, false); }

// ---- per-user laws (docs/interface.md, "Per-user clocks") -------------------------------

std::string node_description(const toml::node& node);  // below

constexpr std::string_view rate_law_names = "dist = \"uniform\" (low, high), \"lognormal\" (median, sigma) or "
                                            "\"two-point\" (value, slow_value, slow_fraction)";
constexpr std::string_view time_law_names = "dist = \"uniform\" (low, high), \"lognormal\" (median, sigma), "
                                            "\"two-point\" (value, slow_value, slow_fraction) or \"exponential\" (mean)";

// A distribution table such as { dist = "lognormal", median = 1, sigma = 0.5 }, checked
// field by field. Values of a rate key lie in [1e-9, 1e9], of a delay or latency key in
// [0, 1e9]; only the latter take the exponential law.
sim::Distribution parse_law(std::string_view key, const toml::table& table, bool is_rate) {
  const std::string_view law_names = is_rate ? rate_law_names : time_law_names;
  const auto* dist_node = table.get("dist");
  const auto* dist_name = dist_node ? dist_node->as_string() : nullptr;
  if (!dist_name) throw InputError(fmt::format("{}: a distribution table needs {}", key, law_names));
  const auto kind = sim::parse_distribution_kind(dist_name->get());
  if (!kind) throw InputError(fmt::format("{}: unknown distribution \"{}\" (expected {})", key, dist_name->get(), law_names));
  if (is_rate && *kind == sim::DistributionKind::exponential)
    throw InputError(fmt::format("{}: the exponential distribution is for delays and latencies (updates.delay, "
                                 "gossip.latency), not rates (expected {})",
                                 key, law_names));
  std::vector<std::string_view> fields;
  switch (*kind) {
    case sim::DistributionKind::uniform: fields = {"low", "high"}; break;
    case sim::DistributionKind::lognormal: fields = {"median", "sigma"}; break;
    case sim::DistributionKind::two_point: fields = {"value", "slow_value", "slow_fraction"}; break;
    case sim::DistributionKind::exponential: fields = {"mean"}; break;
  }
  for (const auto& [name, node] : table)
    if (name.str() != "dist" && std::find(fields.begin(), fields.end(), name.str()) == fields.end())
      throw InputError(fmt::format("{}: unknown field '{}' of the {} distribution (fields: {})", key, name.str(),
                                   sim::to_string(*kind), fmt::join(fields, ", ")));
  const double lo = is_rate ? 1e-9 : 0.0;
  const auto field = [&](std::string_view name, double min, double max, std::string_view range) {
    const auto* node = table.get(name);
    if (!node) throw InputError(fmt::format("{}: the {} distribution needs {}", key, sim::to_string(*kind), fmt::join(fields, ", ")));
    std::optional<double> x;
    if (const auto* i = node->as_integer()) x = static_cast<double>(i->get());
    else if (const auto* d = node->as_floating_point()) x = d->get();
    if (!x || !std::isfinite(*x) || *x < min || *x > max)
      throw InputError(fmt::format("{}: {} of the {} distribution: expected a number in {}, got {}", key, name,
                                   sim::to_string(*kind), range, node_description(*node)));
    return *x;
  };
  const std::string_view value_range = is_rate ? "[1e-9, 1e9]" : "[0, 1e9]";
  sim::Distribution d;
  d.kind = *kind;
  switch (*kind) {
    case sim::DistributionKind::uniform:
      d.a = field("low", lo, 1e9, value_range);
      d.b = field("high", lo, 1e9, value_range);
      if (d.b < d.a) throw InputError(fmt::format("{}: the uniform distribution needs low <= high, got low = {:g}, high = {:g}", key, d.a, d.b));
      break;
    case sim::DistributionKind::lognormal:
      d.a = field("median", is_rate ? 1e-9 : 1e-9, 1e9, "[1e-9, 1e9]");
      d.b = field("sigma", 0.0, 10.0, "[0, 10]");
      break;
    case sim::DistributionKind::two_point:
      d.a = field("value", lo, 1e9, value_range);
      d.b = field("slow_value", lo, 1e9, value_range);
      d.c = field("slow_fraction", 0.0, 1.0, "[0, 1]");
      break;
    case sim::DistributionKind::exponential:  // a mean of 0 has no exponential law: give the number 0 instead
      d.a = field("mean", 1e-9, 1e9, "[1e-9, 1e9]");
      break;
  }
  return d;
}

// A per-user key: a number in [lo, 1e9] (returned) or a distribution (stored in `law`).
double per_user(const Value& v, const KeyInfo& k, double lo, std::optional<sim::Distribution>& law) {
  if (const auto* d = std::get_if<sim::Distribution>(&v)) {
    law = *d;
    return d->mean();  // for work estimates; the clocks use the drawn values
  }
  law.reset();
  return in_range(v, k, lo, 1e9, false, false);
}

nlohmann::ordered_json per_user_json(double value, const std::optional<sim::Distribution>& law) {
  if (!law) return value;
  nlohmann::ordered_json j;
  j["dist"] = sim::to_string(law->kind);
  switch (law->kind) {
    case sim::DistributionKind::uniform: j["low"] = law->a; j["high"] = law->b; break;
    case sim::DistributionKind::lognormal: j["median"] = law->a; j["sigma"] = law->b; break;
    case sim::DistributionKind::two_point: j["value"] = law->a; j["slow_value"] = law->b; j["slow_fraction"] = law->c; break;
    case sim::DistributionKind::exponential: j["mean"] = law->a; break;
  }
  return j;
}

std::uint32_t count(const Value& v, const KeyInfo& k, std::int64_t lo, std::int64_t hi = 1'000'000'000) {
  return static_cast<std::uint32_t>(integer_in(v, k, lo, hi));
}

constexpr std::int64_t max_users = 100'000'000;  // 400 MB of versions in the source model

double effective_p(const Scenario& s) {
  if (s.network.p > 0.0) return s.network.p;
  const double n = s.network.n;
  return std::min(1.0, 2.0 * std::log(n) / n);
}

const std::vector<Key>& registry() {
  static const std::vector<Key> keys = {
      {{"network.n", "an integer in [2, 100000000]", "number of users (default 100)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         s.network.n = static_cast<std::uint32_t>(integer_in(v, k, 2, max_users));
       },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.network.n; }},
      {{"network.topology", accepted(sim::topologies()),
        "graph on which users gossip (default complete)"},
       Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.network.topology = choice(v, k, sim::topologies()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.network.topology); }},
      {{"network.degree", "an integer >= 1", "degree of the random-regular graph (default 8)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         s.network.degree = static_cast<std::uint32_t>(integer_in(v, k, 1, max_users));
       },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.network.degree; }},
      {{"network.p", "a probability in (0, 1]", "edge probability of erdos-renyi, resampled until connected (default 2 ln n / n)"},
       Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         const double p = number(v, k);
         if (!(p > 0.0 && p <= 1.0)) reject(k.name, k.accepts, show(v));
         s.network.p = p;
       },
       [](const Scenario& s) -> nlohmann::ordered_json { return effective_p(s); }},
      {{"network.edges_file", "a path to an edge list (one 'i j [weight]' per line, ids from 0)",
        "edge list for topology edges (default none)"},
       Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.network.edges_file = text(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json {
         if (s.network.edges_file.empty()) return nullptr;
         return s.network.edges_file;
       }},
      {{"gossip.capacity", "a number in [1e-9, 1e9] or a distribution table",
        "capacity factor kappa: each user gossips at rate kappa*g(n); a table draws kappa_i per user (default 1)"},
       Kind::per_user,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.capacity = per_user(v, k, 1e-9, s.gossip.capacity_law); },
       [](const Scenario& s) -> nlohmann::ordered_json { return per_user_json(s.gossip.capacity, s.gossip.capacity_law); }},
      {{"gossip.scaling", accepted(sim::capacity_scalings()), "g(n) = 1, ln n, n or n^gossip.exponent (default constant)"},
       Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.scaling = choice(v, k, sim::capacity_scalings()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.gossip.scaling); }},
      {{"gossip.exponent", "a number in [-1, 2]", "exponent a of gossip.scaling = power: capacity kappa n^a (default 0.5)"},
       Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         s.gossip.exponent = in_range(v, k, theory::min_power_exponent, theory::max_power_exponent, false, false);
       },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.gossip.exponent; }},
      {{"gossip.mode", accepted(sim::gossip_modes()), "who merges on a contact (default push)"}, Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.mode = choice(v, k, sim::gossip_modes()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.gossip.mode); }},
      {{"gossip.policy", accepted(sim::gossip_policies()), "who gossips when (default uniform)"}, Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.policy = choice(v, k, sim::gossip_policies()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::gossip_policies().name(s.gossip.policy); }},
      // ---- the links (docs/model.md §7); every default keeps contacts instantaneous ----
      {{"gossip.latency", "a number in [0, 1e9] or a distribution table (exponential, uniform, lognormal, two-point)",
        "propagation delay of every message; a table draws it per message (default 0)"},
       Kind::per_user,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.latency = per_user(v, k, 0.0, s.gossip.latency_law); },
       [](const Scenario& s) -> nlohmann::ordered_json { return per_user_json(s.gossip.latency, s.gossip.latency_law); }},
      {{"gossip.message_bytes", "a number in [0, 1e15] (0 = the default)",
        "bytes of a staleness-only message; 0 = a vector clock of 4 n bytes; learning sends the model's parameters instead (default 0)"},
       Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.message_bytes = in_range(v, k, 0.0, 1e15, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.gossip.message_bytes; }},
      {{"gossip.bandwidth", "a number in [0, 1e18] (0 = unlimited)",
        "uplink bytes per time unit of every user; a transfer takes message_bytes / bandwidth (default 0 = unlimited)"},
       Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.bandwidth = in_range(v, k, 0.0, 1e18, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.gossip.bandwidth; }},
      {{"gossip.busy", accepted(sim::busy_policies()), "what a gossip tick does while the uplink is sending (default queue)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.busy = choice(v, k, sim::busy_policies()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.gossip.busy); }},
      {{"gossip.loss", "a number in [0, 1)", "probability that a message is lost, independently of all else (default 0)"},
       Kind::number, [](Scenario& s, const Value& v, const KeyInfo& k) { s.gossip.loss = in_range(v, k, 0.0, 1.0, false, true); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.gossip.loss; }},
      {{"updates.rate", "a number in [1e-9, 1e9] or a distribution table",
        "rate mu of each user's local-update clock; a table draws mu_i per user (default 1)"},
       Kind::per_user, [](Scenario& s, const Value& v, const KeyInfo& k) { s.updates.rate = per_user(v, k, 1e-9, s.updates.rate_law); },
       [](const Scenario& s) -> nlohmann::ordered_json { return per_user_json(s.updates.rate, s.updates.rate_law); }},
      {{"updates.delay", "a number in [0, 1e9] or a distribution table",
        "deterministic part c of the update interval c + Exp(mu); a table draws c_i per user (default 0)"},
       Kind::per_user, [](Scenario& s, const Value& v, const KeyInfo& k) { s.updates.delay = per_user(v, k, 0.0, s.updates.delay_law); },
       [](const Scenario& s) -> nlohmann::ordered_json { return per_user_json(s.updates.delay, s.updates.delay_law); }},
      {{"users.file", "a path to a users CSV file (header naming update_rate, update_delay, gossip_capacity; one row per user)",
        "per-user clocks, one row per user in user order; a missing column takes the scenario value (default none)"},
       Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         s.users.file = text(v, k);
         s.users.table = s.users.file.empty() ? nullptr : sim::read_users_file(s.users.file);
       },
       [](const Scenario& s) -> nlohmann::ordered_json {
         if (s.users.file.empty()) return nullptr;
         return s.users.file;
       }},
      // ---- churn (docs/model.md §7.3) ----
      {{"churn.model", accepted(sim::churn_models()), "online and offline periods of the users (default none)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.churn.model = choice(v, k, sim::churn_models()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.churn.model); }},
      {{"churn.online_mean", "a number in [1e-9, 1e9]", "markov: mean online period (default 100)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.churn.online_mean = in_range(v, k, 1e-9, 1e9, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.churn.online_mean; }},
      {{"churn.offline_mean", "a number in [1e-9, 1e9]", "markov: mean offline period (default 10)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.churn.offline_mean = in_range(v, k, 1e-9, 1e9, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.churn.offline_mean; }},
      {{"churn.trace_file", "a path to a churn trace CSV file (header user,start,end; one online interval per line)",
        "trace: each user's online intervals (default none)"},
       Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         s.churn.trace_file = text(v, k);
         s.churn.trace = s.churn.trace_file.empty() ? nullptr : sim::read_churn_trace(s.churn.trace_file);
       },
       [](const Scenario& s) -> nlohmann::ordered_json {
         if (s.churn.trace_file.empty()) return nullptr;
         return s.churn.trace_file;
       }},
      {{"churn.offline_updates", "true or false", "offline users keep making local updates (default true)"}, Kind::boolean,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.churn.offline_updates = flag(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.churn.offline_updates; }},
      {{"staleness.model", accepted(sim::staleness_models()), "users: every user is a source; source: Yates' external source (default users)"},
       Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.staleness.model = choice(v, k, sim::staleness_models()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.staleness.model); }},
      {{"staleness.tracked", "an integer >= 0 (0 = all users)", "sources K tracked in the users model (default 0 = all)"},
       Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         s.staleness.tracked = static_cast<std::uint32_t>(integer_in(v, k, 0, max_users));
       },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.tracked_sources(); }},
      {{"staleness.bound", "an integer >= 0", "bound B: reports the fraction of time the worst staleness exceeds B (default 10)"},
       Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         s.staleness.bound = static_cast<std::uint32_t>(integer_in(v, k, 0, 1'000'000'000));
       },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.staleness.bound; }},
      {{"source.rate", "a number in [1e-9, 1e9]", "lambda_e, version rate of the external source (default 1)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.source.rate = rate(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.source.rate; }},
      {{"source.push_rate", "a number in [1e-9, 1e9]", "lambda_0, total rate of the source's pushes to random users (default 1)"},
       Kind::number, [](Scenario& s, const Value& v, const KeyInfo& k) { s.source.push_rate = rate(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.source.push_rate; }},
      {{"run.horizon", "a number > 0", "simulated time per trial (default 1000)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.run.horizon = positive(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.run.horizon; }},
      {{"run.warmup", "a number >= 0 and below run.horizon", "time discarded before averaging (default 100)"},
       Kind::number, [](Scenario& s, const Value& v, const KeyInfo& k) { s.run.warmup = non_negative(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.run.warmup; }},
      {{"run.trials", "an integer in [1, 1000000]", "independent trials (default 16)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         s.run.trials = static_cast<std::uint32_t>(integer_in(v, k, 1, 1'000'000));
       },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.run.trials; }},
      {{"run.seed", "an integer in [0, 18446744073709551615]",
        "master seed; trial t uses the stream (seed, t); sweep point p uses seed + p (mod 2^64) (default 1)"},
       Kind::seed,
       [](Scenario& s, const Value& v, const KeyInfo& k) {
         if (const auto* u = std::get_if<std::uint64_t>(&v)) s.run.seed = *u;
         else if (const auto* i = std::get_if<std::int64_t>(&v); i && *i >= 0) s.run.seed = static_cast<std::uint64_t>(*i);
         else if (const auto* t = std::get_if<std::string>(&v); t && parse_u64(*t)) s.run.seed = *parse_u64(*t);
         else reject(k.name, k.accepts, show(v));
       },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.run.seed; }},
      // ---- learning mode (docs/model.md §4-5) ----
      {{"model.kind", accepted(sim::model_kinds()), "learning model; none = staleness only (default none)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.model.kind = choice(v, k, sim::model_kinds()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.model.kind); }},
      {{"model.hidden", "a list of widths >= 1, e.g. [128, 64]", "hidden layer widths of the MLP (default [128, 64])"},
       Kind::integer_list, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.model.hidden = positive_list(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.model.hidden; }},
      {{"model.activation", accepted(sim::activations()), "MLP hidden activation (default relu)"}, Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.model.activation = choice(v, k, sim::activations()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.model.activation); }},
      {{"model.init", accepted(sim::initialisations()), "weight initialisation, each user independently (default xavier)"}, Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.model.init = choice(v, k, sim::initialisations()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.model.init); }},
      {{"data.source", accepted(sim::data_sources()), "data set (default synthetic-mixture)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.source = choice(v, k, sim::data_sources()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.data.source); }},
      {{"data.partition", accepted(sim::partitions()), "how training data is split over users (default iid)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.partition = choice(v, k, sim::partitions()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.data.partition); }},
      {{"data.alpha", "a number > 0", "Dirichlet concentration of the label skew (default 0.5)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.alpha = positive(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.alpha; }},
      {{"data.shards_per_user", "an integer in [1, 1000000000]", "sorted-label shards per user for partition shards (default 2)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.shards_per_user = count(v, k, 1); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.shards_per_user; }},
      {{"data.features", "an integer in [1, 100000]", "features of the synthetic sets (default 20)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.features = count(v, k, 1, 100000); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.features; }},
      {{"data.classes", "an integer in [2, 1000]", "classes of the synthetic mixture (default 10)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.classes = count(v, k, 2, 1000); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.classes; }},
      {{"data.train_samples", "an integer in [0, 10000000]", "training samples; 0 = 20000 synthetic or all of Fashion-MNIST (default 0)"},
       Kind::integer, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.train_samples = count(v, k, 0, 10'000'000); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.train_samples; }},
      {{"data.test_samples", "an integer in [0, 10000000]", "test samples; 0 = 5000 synthetic or all of Fashion-MNIST (default 0)"},
       Kind::integer, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.test_samples = count(v, k, 0, 10'000'000); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.test_samples; }},
      {{"data.spread", "a number in [0, 1e6]",
        "heterogeneity: sd of the quadratic optima a_i, or of each regression user's theta_i* around theta* (default 0)"},
       Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.spread = in_range(v, k, 0.0, 1e6, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.spread; }},
      {{"data.noise", "a number in [0, 1e6]", "noise sd of the synthetic regression (default 0.1)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.noise = in_range(v, k, 0.0, 1e6, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.noise; }},
      {{"data.target", accepted(sim::regression_targets()),
        "law of the synthetic regression's targets: W* x + b*, or a fixed random tanh teacher network (default linear)"},
       Kind::string,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.target = choice(v, k, sim::regression_targets()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.data.target); }},
      {{"data.teacher_hidden", "an integer in [1, 100000]", "hidden width of the teacher network of data.target = teacher (default 32)"},
       Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.teacher_hidden = count(v, k, 1, 100000); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.teacher_hidden; }},
      {{"data.separation", "a number in (0, 1e6]", "sd of the class means of the synthetic mixture (default 3)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.separation = in_range(v, k, 0.0, 1e6, true, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.separation; }},
      {{"data.dir", "a directory", "where Fashion-MNIST's gzip IDX files are (default /usr/share/datasets/fashion-mnist)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.data.dir = text(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.data.dir; }},
      {{"train.steps", "an integer in [0, 100000]", "SGD steps per local update, tau; 0 = no training (default 1)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.train.steps = count(v, k, 0, 100000); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.train.steps; }},
      {{"train.batch", "an integer in [1, 4096]", "mini-batch size (default 32)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.train.batch = count(v, k, 1, 4096); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.train.batch; }},
      {{"train.lr", "a number > 0", "step size (default 0.05)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.train.lr = positive(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.train.lr; }},
      {{"train.schedule", accepted(sim::lr_schedules()), "step-size schedule in simulated time (default constant)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.train.schedule = choice(v, k, sim::lr_schedules()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.train.schedule); }},
      {{"train.decay_time", "a number > 0", "inverse-time schedule: lr / (1 + t / decay_time) (default 100)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.train.decay_time = positive(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.train.decay_time; }},
      {{"train.step_time", "a number > 0", "step schedule: lr * step_factor^floor(t / step_time) (default 100)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.train.step_time = positive(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.train.step_time; }},
      {{"train.step_factor", "a number in (0, 1]", "step schedule factor (default 0.5)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.train.step_factor = in_range(v, k, 0.0, 1.0, true, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.train.step_factor; }},
      {{"train.momentum", "a number in [0, 1)", "heavy-ball momentum; 0 = plain SGD (default 0)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.train.momentum = in_range(v, k, 0.0, 1.0, false, true); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.train.momentum; }},
      {{"learning.protocol", accepted(sim::learning_protocols()),
        "how the users' models learn together (default gossip; mixing.rule = \"fedavg\" is an alias of fedavg)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.protocol = choice(v, k, sim::learning_protocols()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::learning_protocols().name(s.learning.protocol); }},
      {{"mixing.rule", accepted(sim::mixing_rules()),
        "how models mix on a gossip contact, or the FedAvg baseline (default average)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.mixing.rule = choice(v, k, sim::mixing_rules()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.mixing.rule); }},
      {{"mixing.fedavg_fraction", "a number in (0, 1]", "fraction of users sampled per FedAvg round (default 0.1)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.mixing.fedavg_fraction = in_range(v, k, 0.0, 1.0, true, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.mixing.fedavg_fraction; }},
      {{"mixing.variance_target", accepted(sim::variance_targets()),
        "variance-corrected: target = mean variance of all contributing models or of the received ones (default contributing)"},
       Kind::string, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.mixing.variance_target = choice(v, k, sim::variance_targets()); },
       [](const Scenario& s) -> nlohmann::ordered_json { return sim::to_string(s.learning.mixing.variance_target); }},
      {{"mixing.correct_biases", "true or false", "variance correction also rescales bias vectors (default false)"}, Kind::boolean,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.mixing.correct_biases = flag(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.mixing.correct_biases; }},
      {{"mixing.fedavg_variance_correction", "true or false", "the FedAvg server variance-corrects its average (default false)"},
       Kind::boolean, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.mixing.fedavg_variance_correction = flag(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.mixing.fedavg_variance_correction; }},
      {{"observe.every", "a number > 0", "simulated time between metric observations (default 10)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.observe.every = positive(v, k); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.observe.every; }},
      {{"observe.users", "an integer in [1, 1000000000]", "users whose own test metrics are averaged (default 8)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.observe.users = count(v, k, 1); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.observe.users; }},
      {{"observe.test_samples", "an integer in [0, 10000000]", "test samples per evaluation; 0 = the whole test set (default 0)"}, Kind::integer,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.observe.test_samples = count(v, k, 0, 10'000'000); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.observe.test_samples; }},
      {{"observe.plateau_fraction", "a number in (0, 1]", "plateau delay: first time accuracy reaches this fraction of its final value, "
                                                          "against one user training on all the data (default 0.5)"},
       Kind::number, [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.observe.plateau_fraction = in_range(v, k, 0.0, 1.0, true, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.observe.plateau_fraction; }},
      {{"target.accuracy", "a number in [0, 1]", "test accuracy whose first-passage time is reported (default 0.8)"}, Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.target_accuracy = in_range(v, k, 0.0, 1.0, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json { return s.learning.target_accuracy; }},
      {{"target.loss", "a number in [0, 1e300]", "test loss of the average model whose first-passage time is reported (default none)"},
       Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.target_loss = in_range(v, k, 0.0, 1e300, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json {
         if (!s.learning.target_loss) return nullptr;
         return *s.learning.target_loss;
       }},
      {{"target.distance", "a number in [0, 1e300]",
        "relative distance to the optimum whose first-passage time is reported (default none)"},
       Kind::number,
       [](Scenario& s, const Value& v, const KeyInfo& k) { s.learning.target_distance = in_range(v, k, 0.0, 1e300, false, false); },
       [](const Scenario& s) -> nlohmann::ordered_json {
         if (!s.learning.target_distance) return nullptr;
         return *s.learning.target_distance;
       }},
  };
  return keys;
}

const Key* find_key(std::string_view name) {
  for (const Key& k : registry())
    if (k.info.name == name) return &k;
  return nullptr;
}

std::string keys_of_table(std::string_view table) {
  std::string out;
  for (const Key& k : registry()) {
    const std::string_view name = k.info.name;
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
    const std::string_view table = k.info.name.substr(0, k.info.name.find('.'));
    if (table == last) continue;
    if (!out.empty()) out += ", ";
    out += table;
    last = table;
  }
  return out;
}

[[noreturn]] void unknown_key(std::string_view name) {
  const std::string_view table = name.substr(0, name.find('.'));
  const std::string known = keys_of_table(table);
  if (known.empty() || name.find('.') == std::string_view::npos)
    throw InputError(fmt::format("{}: unknown key (scenario keys are table.key with tables {})", name, table_names()));
  throw InputError(fmt::format("{}: unknown key (known keys of [{}]: {})", name, table, known));
}

// A relative path given in a file is relative to that file's directory. Anything but a
// string is left for the key's own type check to refuse.
Value relative_to(const Value& v, const std::filesystem::path& base_dir) {
  const auto* text = std::get_if<std::string>(&v);
  if (!text || text->empty() || base_dir.empty()) return v;
  const std::filesystem::path path(*text);
  if (path.is_relative()) return (base_dir / path).lexically_normal().string();
  return v;
}

Value from_raw(const Key& key, std::string_view raw) {
  switch (key.kind) {
    case Kind::integer: {
      std::int64_t x = 0;
      const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
      if (ec != std::errc() || end != raw.data() + raw.size()) reject(key.info.name, key.info.accepts, fmt::format("'{}'", raw));
      return x;
    }
    case Kind::number: {
      double x = 0;
      const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
      if (ec != std::errc() || end != raw.data() + raw.size()) reject(key.info.name, key.info.accepts, fmt::format("'{}'", raw));
      return x;
    }
    case Kind::per_user: {
      if (!raw.empty() && raw.front() == '{') {  // --set updates.rate='{ dist = "uniform", low = 0.5, high = 1.5 }'
        toml::table root;
        try {
          root = toml::parse(fmt::format("value = {}", raw));
        } catch (const toml::parse_error& e) {
          reject(key.info.name, key.info.accepts, fmt::format("'{}' (not a TOML inline table: {})", raw, e.description()));
        }
        const auto* table = root["value"].as_table();
        if (!table) reject(key.info.name, key.info.accepts, fmt::format("'{}'", raw));
        return parse_law(key.info.name, *table, is_rate_key(key.info.name));
      }
      double x = 0;
      const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
      if (ec != std::errc() || end != raw.data() + raw.size()) reject(key.info.name, key.info.accepts, fmt::format("'{}'", raw));
      return x;
    }
    case Kind::seed: {
      const auto x = parse_u64(raw);
      if (!x) reject(key.info.name, key.info.accepts, fmt::format("'{}'", raw));
      return *x;
    }
    case Kind::boolean:
      if (raw == "true") return true;
      if (raw == "false") return false;
      reject(key.info.name, key.info.accepts, fmt::format("'{}'", raw));
    case Kind::integer_list: {
      // "[128, 64]" or "128,64"
      std::string_view body = raw;
      if (body.size() >= 2 && body.front() == '[' && body.back() == ']') body = body.substr(1, body.size() - 2);
      std::vector<std::int64_t> list;
      while (!body.empty()) {
        const auto comma = body.find(',');
        std::string_view item = body.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        std::int64_t x = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), x);
        if (ec != std::errc() || end != item.data() + item.size()) reject(key.info.name, key.info.accepts, fmt::format("'{}'", raw));
        list.push_back(x);
        if (comma == std::string_view::npos) break;
        body.remove_prefix(comma + 1);
      }
      return list;
    }
    case Kind::string:
      if (raw.size() >= 2 && (raw.front() == '"' || raw.front() == '\'') && raw.back() == raw.front())
        raw = raw.substr(1, raw.size() - 2);
      return std::string(raw);
  }
  return std::string(raw);
}

std::string node_description(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default:
      return node.visit([](const auto& value) {
        std::ostringstream out;
        out << value;
        return out.str();
      });
  }
}

}  // namespace

const std::vector<KeyInfo>& scenario_keys() {
  static const std::vector<KeyInfo> infos = [] {
    std::vector<KeyInfo> out;
    for (const Key& k : registry()) out.push_back(k.info);
    return out;
  }();
  return infos;
}

nlohmann::ordered_json scenario_json(const Scenario& scenario) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const Key& k : registry()) out[std::string(k.info.name)] = k.get(scenario);
  return out;
}

void apply_value(Scenario& scenario, std::string_view name, std::string_view raw,
                 const std::filesystem::path& base_dir) {
  const Key* key = find_key(name);
  if (!key) unknown_key(name);
  Value v = from_raw(*key, raw);
  if (is_path_key(name)) v = relative_to(v, base_dir);
  key->set(scenario, v, key->info);
}

void apply_setting(Scenario& scenario, std::string_view setting) {
  const auto eq = setting.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw InputError(fmt::format("--set: expected KEY=VALUE (e.g. network.n=1000), got '{}'", setting));
  apply_value(scenario, setting.substr(0, eq), setting.substr(eq + 1));
}

void apply_table(Scenario& scenario, const toml::table& root, const std::filesystem::path& base_dir,
                 const std::vector<std::string_view>& extra_tables) {
  for (const auto& [table_key, node] : root) {
    const std::string_view table = table_key.str();
    if (std::find(extra_tables.begin(), extra_tables.end(), table) != extra_tables.end()) continue;
    if (keys_of_table(table).empty())
      throw InputError(fmt::format("{}: unknown table (tables: {})", table, table_names()));
    const toml::table* inner = node.as_table();
    if (!inner) {
      throw InputError(fmt::format("{}: expected a table [{}] of keys {}, got {}", table, table,
                                   keys_of_table(table), node_description(node)));
    }
    for (const auto& [name_key, value] : *inner) {
      const std::string name = fmt::format("{}.{}", table, name_key.str());
      const Key* key = find_key(name);
      if (!key) unknown_key(name);
      Value v;
      if (const auto* i = value.as_integer()) v = i->get();
      else if (const auto* d = value.as_floating_point()) v = d->get();
      else if (const auto* s = value.as_string()) v = s->get();
      else if (const auto* b = value.as_boolean()) v = b->get();
      else if (const auto* t = value.as_table(); t && key->kind == Kind::per_user)
        v = parse_law(name, *t, is_rate_key(name));
      else if (const auto* array = value.as_array(); array && key->kind == Kind::integer_list) {
        std::vector<std::int64_t> list;
        for (const auto& item : *array) {
          const auto* i = item.as_integer();
          if (!i) reject(name, key->info.accepts, node_description(value));
          list.push_back(i->get());
        }
        v = list;
      } else reject(name, key->info.accepts, node_description(value));
      if (is_path_key(name)) v = relative_to(v, base_dir);
      key->set(scenario, v, key->info);
    }
  }
}

toml::table parse_toml_text(std::string_view text, std::string_view origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: not valid TOML: {}", origin, e.source().begin.line, e.source().begin.column,
                                 e.description()));
  }
}

toml::table parse_toml_file(const std::filesystem::path& file, std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw InputError(fmt::format("{}: cannot read the {} (no such file)", file.string(), what));
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: not valid TOML: {}", file.string(), e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
}

Scenario load_scenario(const std::optional<std::filesystem::path>& file, const std::vector<std::string>& settings,
                       const std::vector<std::string_view>& extra_tables) {
  Scenario scenario;
  if (file) apply_table(scenario, parse_toml_file(*file, "scenario file"), file->parent_path(), extra_tables);
  for (const auto& setting : settings) apply_setting(scenario, setting);
  return scenario;
}

Scenario load_scenario_text(std::string_view text, std::string_view origin, const std::filesystem::path& base_dir,
                            const std::vector<std::string>& settings) {
  Scenario scenario;
  apply_table(scenario, parse_toml_text(text, origin), base_dir);
  for (const auto& setting : settings) apply_setting(scenario, setting);
  return scenario;
}

namespace {

// The first network key (docs/model.md §7) that is not at its default, for errors about all of them.
std::string_view first_network_key(const Scenario& s) {
  if (s.gossip.latency > 0.0 || s.gossip.latency_law) return "gossip.latency";
  if (s.gossip.bandwidth > 0.0) return "gossip.bandwidth";
  if (s.gossip.loss > 0.0) return "gossip.loss";
  return "churn.model";
}

void validate_network(const Scenario& s) {
  const auto& c = s.churn;
  if (c.model == sim::ChurnModel::trace && c.trace_file.empty())
    throw InputError("churn.trace_file: required when churn.model = \"trace\" (a path to a churn trace CSV file)");
  if (c.model != sim::ChurnModel::trace && !c.trace_file.empty())
    throw InputError(fmt::format("churn.trace_file: only read when churn.model = \"trace\", but churn.model = \"{}\" "
                                 "(set churn.model = \"trace\" or drop churn.trace_file)",
                                 sim::to_string(c.model)));
  // The trace is sized by its largest user id, which has at least one interval.
  if (c.trace && c.trace->users() > s.network.n)
    throw InputError(fmt::format("churn.trace_file: '{}' names user {}, but network.n = {} (users are 0..{})",
                                 c.trace->path, c.trace->users() - 1, s.network.n, s.network.n - 1));
  if (!s.networked()) return;
  if (s.staleness.model == sim::StalenessModel::source)
    throw InputError(fmt::format("{}: gossip.latency, gossip.bandwidth, gossip.loss and churn apply to the users model; "
                                 "staleness.model = \"source\" is Yates' idealised process (set staleness.model = "
                                 "\"users\" or keep these keys at their defaults)",
                                 first_network_key(s)));
}

}  // namespace

void validate(const Scenario& s) {
  if (!(s.run.warmup < s.run.horizon))
    throw InputError(fmt::format("run.warmup: expected a value in [0, run.horizon = {}), got {}", s.run.horizon,
                                 s.run.warmup));
  if (s.staleness.tracked > s.network.n)
    throw InputError(fmt::format("staleness.tracked: expected 0 (all) or at most network.n = {}, got {}", s.network.n,
                                 s.staleness.tracked));
  if (s.network.topology == sim::TopologyKind::edges && s.network.edges_file.empty())
    throw InputError("network.edges_file: required when network.topology = \"edges\" (a path to an edge list)");
  if (const auto& t = s.users.table) {
    if (t->rows != s.network.n)
      throw InputError(fmt::format("users.file: '{}' has {} user rows, expected one per user (network.n = {})", t->path,
                                   t->rows, s.network.n));
    const auto both = [&](const std::vector<double>& column, const auto& law, std::string_view key, std::string_view name) {
      if (!column.empty() && law)
        throw InputError(fmt::format("{}: a distribution and users.file column {} both give it; keep one", key, name));
    };
    both(t->update_rate, s.updates.rate_law, "updates.rate", "update_rate");
    both(t->update_delay, s.updates.delay_law, "updates.delay", "update_delay");
    both(t->gossip_capacity, s.gossip.capacity_law, "gossip.capacity", "gossip_capacity");
  }
  if (s.heterogeneous()) {
    const std::string_view which = s.users.table ? "users.file" : s.updates.rate_law ? "updates.rate"
                                                 : s.updates.delay_law ? "updates.delay" : "gossip.capacity";
    if (s.staleness.model == sim::StalenessModel::source)
      throw InputError(fmt::format("{}: per-user clocks need staleness.model = \"users\" (the source model takes numbers)", which));
  }
  // The learning protocol's own requirements (sim/protocols.hpp), e.g. FedAvg's server
  // rounds take neither per-user clocks nor the network layer.
  if (s.learning.enabled()) sim::learning_protocol(s).check(s);
  validate_network(s);
}

double model_parameters(const Scenario& s);  // below

namespace {

// ---- the network layer's load (docs/model.md §7) ----------------------------------------
// Messages a gossip tick sends: push its state; pull a request and the reply; exchange an
// opening and the reply. Each holds a copy of its sender's state until it arrives or is lost.
double messages_per_tick(const Scenario& s) { return s.gossip.mode == sim::GossipMode::push ? 1.0 : 2.0; }

// Bytes of one message on the uplink, as the engine sends it: the staleness message, or the
// model's parameters (floats; the quadratic model's coordinates are doubles).
double wire_bytes(const Scenario& s) {
  if (!s.learning.enabled()) return s.staleness_message_bytes();
  if (s.learning.model.kind == sim::ModelKind::quadratic) return 8.0 * s.learning.data.features;
  return 4.0 * model_parameters(s);
}

double transfer_time(const Scenario& s) { return s.gossip.bandwidth > 0.0 ? wire_bytes(s) / s.gossip.bandwidth : 0.0; }

// Events per unit time the network layer adds to the clocks': each message's arrival (and the
// end of its transfer over a finite uplink), and every Markov churn transition. A trace's
// transitions are bounded by its file.
double network_event_rate(const Scenario& s, double mean_gossip) {
  if (!s.networked()) return 0.0;
  const double n = s.network.n;
  double rate = n * mean_gossip * messages_per_tick(s) * (transfer_time(s) > 0.0 ? 2.0 : 1.0);
  if (s.churn.model == sim::ChurnModel::markov) rate += n * 2.0 / (s.churn.online_mean + s.churn.offline_mean);
  return rate;
}

// The users' clock rates as the estimates need them: means, and the extremes that bound
// a version's count and spread. Heterogeneous users are resolved (O(n)).
struct ClockRates {
  double mean_update = 0.0, max_update = 0.0, mean_gossip = 0.0, min_gossip = 0.0;
};

ClockRates clock_rates(const Scenario& s) {
  ClockRates c{s.update_rate(), s.update_rate(), s.gossip_rate(), s.gossip_rate()};
  if (!s.heterogeneous() || (s.users.table && s.users.table->rows != s.network.n)) return c;
  const sim::UserClocks clocks = sim::user_clocks(s);
  c = {0.0, 0.0, 0.0, clocks.min_gossip_rate()};
  for (std::uint32_t i = 0; i < s.network.n; ++i) {
    c.mean_update += clocks.long_run_rate(i);
    c.max_update = std::max(c.max_update, clocks.long_run_rate(i));
    c.mean_gossip += clocks.gossip_rate[i];
  }
  c.mean_update /= s.network.n;
  c.mean_gossip /= s.network.n;
  return c;
}

// The estimates below from rates resolved once (per-user clocks cost O(n) draws to resolve).
double events_at(const Scenario& s, const ClockRates& c) {
  const double n = s.network.n;
  // Every clock ticks at its long-run rate: each user's gossip and update clocks (users
  // model and learning), or the users' gossip plus the source's two clocks (source model).
  const double rate = s.staleness.model == sim::StalenessModel::source
                          ? n * s.gossip_rate() + s.source.rate + s.source.push_rate
                          : n * (c.mean_gossip + c.mean_update) + network_event_rate(s, c.mean_gossip);
  return s.run.horizon * rate;
}

double work_at(const Scenario& s, const ClockRates& c) {
  const double version_rate = s.staleness.model == sim::StalenessModel::source ? s.source.rate : c.mean_update;
  const double span = version_rate / c.min_gossip * std::log(static_cast<double>(s.network.n));
  // A gossip of the users model also merges the views of all K tracked sources.
  const double merged = s.staleness.model == sim::StalenessModel::source ? 0.0 : s.tracked_sources();
  return events_at(s, c) * (1.0 + merged + span);
}

}  // namespace

double estimated_events(const Scenario& s) { return events_at(s, clock_rates(s)); }

double estimated_work(const Scenario& s) { return work_at(s, clock_rates(s)); }

// Parameters of the scenario's model, from the keys alone (models/network.hpp builds the same
// layers): inputs, hidden widths and outputs, each layer with its biases.
double model_parameters(const Scenario& s) {
  const auto& l = s.learning;
  const bool fashion = l.data.source == sim::DataSource::fashion_mnist;
  const double inputs = fashion ? 784.0 : l.data.features;
  const double outputs = l.data.source == sim::DataSource::synthetic_regression ? 1.0
                         : fashion                                               ? 10.0
                                                                                 : l.data.classes;
  double parameters = 0.0, width = inputs;
  if (l.model.kind == sim::ModelKind::mlp)
    for (const int hidden : l.model.hidden) {
      parameters += (width + 1.0) * hidden;
      width = hidden;
    }
  return parameters + (width + 1.0) * outputs;
}

// Test samples one evaluation uses.
double evaluation_samples(const Scenario& s) {
  const auto& d = s.learning.data;
  const double test = d.test_samples ? d.test_samples : d.source == sim::DataSource::fashion_mnist ? 10000.0 : 5000.0;
  return s.learning.observe.test_samples ? std::min<double>(s.learning.observe.test_samples, test) : test;
}

constexpr double max_teacher_operations = 1e11;
constexpr std::uint32_t max_least_squares_features = 1000;

double estimated_observations(const Scenario& s) {
  return s.learning.enabled() ? std::floor(s.run.horizon / s.learning.observe.every) + 1.0 : 0.0;
}

// The quadratic model (docs/model.md §6): every event costs O(d) arithmetic plus O(log n) for
// the worst-error tree, and every observation O(n d); the models take n d doubles per trial.
static void check_quadratic_resources(const Scenario& s, const RunLimits& limits, double events_per_trial) {
  const double n = s.network.n, d = s.learning.data.features;
  const double per_event = 8.0 * d + 2.0 * std::log2(n) + 20.0;
  const double operations = (events_per_trial * per_event + estimated_observations(s) * 6.0 * n * d) * s.run.trials;
  const double limit = learning_flops_per_event * limits.max_events;
  if (!(operations <= limit))
    throw InputError(fmt::format("data.features, network.n, run.horizon, run.trials, observe.every: the quadratic model "
                                 "would take about {:.3g} operations (O(data.features) per event, O(n data.features) per "
                                 "observation), more than the limit of {:.3g} ({:g} per --max-events; lower these keys or "
                                 "raise --max-events)",
                                 operations, limit, learning_flops_per_event));
  constexpr double memory = 4.0 * (1u << 30);
  const double bytes = static_cast<double>(std::max(sim::quadratic_state_bytes(s), sim::quadratic_problem_bytes(s)));
  if (bytes > memory)
    throw InputError(fmt::format("network.n, data.features: {} users in {} dimensions need {:.1f} GiB per trial "
                                 "(at most 4 GiB)",
                                 s.network.n, s.learning.data.features, bytes / (1u << 30)));
}

// Messages in flight each hold a copy of their sender's state (K versions, or a model) from the
// start of their transfer to their arrival: by Little's law about (send rate) x (time in
// flight) copies at once, and a queue that grows when ticks outpace a slow uplink. A latency
// of 1e9 makes every message of the run live to its end, so this is bounded before anything runs.
static void check_message_memory(const Scenario& s, const ClockRates& rates) {
  if (!s.networked()) return;
  const double n = s.network.n, transfer = transfer_time(s);
  double sends = n * rates.mean_gossip * messages_per_tick(s), backlog = 0.0;
  if (transfer > 0.0 && sends > n / transfer) {  // each uplink finishes at most 1 / transfer per unit time
    if (s.gossip.busy == sim::BusyPolicy::queue) backlog = (sends - n / transfer) * s.run.horizon;
    sends = n / transfer;
  }
  const double latency = s.gossip.latency_law ? s.gossip.latency_law->mean() : s.gossip.latency;
  const double in_flight = sends * std::min(s.run.horizon, transfer + latency);
  const double copy = s.learning.enabled() ? wire_bytes(s) : 4.0 * s.tracked_sources();
  constexpr double per_message = 64.0, per_queued = 32.0;  // bookkeeping besides the copy
  const double bytes = in_flight * (copy + per_message) + backlog * per_queued;
  constexpr double limit = 2.0 * (1u << 30);
  if (bytes > limit)
    throw InputError(fmt::format("gossip.latency, gossip.bandwidth, network.n, run.horizon: about {:.3g} messages would "
                                 "be in flight at once, each holding a copy of its sender's state ({:g} bytes){}: "
                                 "{:.1f} GiB per trial (at most 2 GiB; lower gossip.latency, network.n or "
                                 "staleness.tracked, or raise gossip.bandwidth)",
                                 in_flight, copy,
                                 backlog > 0.0 ? fmt::format(", and {:.3g} sends queued for the uplink", backlog) : "",
                                 bytes / (1u << 30)));
}

void check_resources(const Scenario& s, const RunLimits& limits) {
  const ClockRates rates = clock_rates(s);
  // Versions are 32-bit counters; keep the expected count far below 2^32.
  const double versions = s.run.horizon *
      (s.staleness.model == sim::StalenessModel::source ? s.source.rate : rates.max_update);
  if (versions > 1e9)
    throw InputError(fmt::format("run.horizon: {} time units make about {:.3g} versions per source; "
                                 "expected at most 1e9 (shorten run.horizon or lower the update rate)",
                                 s.run.horizon, versions));
  // Total work, before anything runs: a typo such as gossip.capacity = 1e300 must be refused,
  // not simulated for ever.
  // The limits bound a whole run (every trial), so a million trials of a small scenario are
  // refused as surely as one huge trial.
  const double trials = s.run.trials;
  const double events = events_at(s, rates) * trials;
  if (!(events <= limits.max_events)) {
    const char* keys = s.staleness.model == sim::StalenessModel::source
                           ? "run.horizon, network.n, gossip.capacity, gossip.scaling, source.rate, source.push_rate"
                           : "run.horizon, network.n, gossip.capacity, gossip.scaling, updates.rate, updates.delay";
    // Markov churn toggles every user at rate 2 / (online_mean + offline_mean): short periods are events too.
    const char* churn = s.churn.model == sim::ChurnModel::markov ? ", churn.online_mean, churn.offline_mean" : "";
    throw InputError(fmt::format("{}{}, run.trials: the run would simulate about {:.3g} events, more than the limit of "
                                 "{:.3g} (lower these keys, or raise the limit with --max-events)",
                                 keys, churn, events, limits.max_events));
  }
  // Each event integrates the staleness over the span of versions between a source's newest
  // and oldest known one, about (rate of versions / gossip rate) ln n of them.
  const double work = work_at(s, rates) * trials;
  if (!(work <= work_per_event_limit * limits.max_events))
    throw InputError(fmt::format("{}, run.trials: the run would simulate about {:.3g} events of about {:.3g} steps each "
                                 "(tracked sources merged and the staleness span integrated), more than {:.3g} steps in "
                                 "all (lower these keys or staleness.tracked, or raise the limit with --max-events)",
                                 s.staleness.model == sim::StalenessModel::source
                                     ? "source.rate, gossip.capacity, gossip.scaling, network.n, run.horizon"
                                     : "updates.rate, updates.delay, gossip.capacity, gossip.scaling, network.n, run.horizon",
                                 events, work / events, work_per_event_limit * limits.max_events));
  const double observations = estimated_observations(s);
  if (observations > max_observations)
    throw InputError(fmt::format("observe.every, run.horizon: one trial would record about {:.3g} observations, "
                                 "more than the limit of {:.3g} (observe less often or shorten run.horizon)",
                                 observations, max_observations));
  if (s.learning.model.kind == sim::ModelKind::quadratic) {
    check_quadratic_resources(s, limits, events_at(s, rates));
  } else if (s.learning.enabled()) {
    // Learning work: every local update computes train.steps mini-batch gradients, and every
    // observation evaluates the average model and observe.users users' models on the test
    // samples; each costs a few multiply-adds per parameter and sample.
    const double gradients = s.run.horizon * s.network.n * rates.mean_update * s.learning.train.steps *
                             static_cast<double>(s.learning.train.batch);
    const double evaluations = estimated_observations(s) * (s.learning.observe.users + 1.0) * evaluation_samples(s);
    // Every sample also costs a fixed amount beside its parameters (batch gathering, the
    // loss, the step): counted as 1000 operations, so tiny models are not free.
    const double flops = (model_parameters(s) + 1000.0) * (6.0 * gradients + 2.0 * evaluations) * trials;
    const double flop_limit = learning_flops_per_event * limits.max_events;
    if (!(flops <= flop_limit))
      throw InputError(fmt::format("train.steps, train.batch, model.hidden, data.features, observe.every, network.n, "
                                   "run.horizon, run.trials: each trial would compute about {:.3g} sample gradients and {:.3g} "
                                   "sample evaluations of a {:.3g}-parameter model, about {:.3g} operations in all, more than "
                                   "the limit of {:.3g} ({:g} per --max-events; lower these keys or raise --max-events)",
                                   gradients, evaluations, model_parameters(s), flops, flop_limit,
                                   learning_flops_per_event));
    // A synthetic set is generated in memory as floats: refuse one that cannot fit.
    if (s.learning.data.source != sim::DataSource::fashion_mnist) {
      const auto& d = s.learning.data;
      const double samples = (d.train_samples ? d.train_samples : 20000.0) + (d.test_samples ? d.test_samples : 5000.0);
      const double bytes = samples * d.features * sizeof(float);
      if (bytes > 4.0 * (1u << 30))
        throw InputError(fmt::format("data.features, data.train_samples, data.test_samples: the synthetic data set "
                                     "needs {:.1f} GiB (at most 4 GiB)",
                                     bytes / (1u << 30)));
      if (d.source == sim::DataSource::synthetic_regression && d.target == sim::RegressionTarget::teacher) {
        // The teacher's hidden layer is evaluated for every sample when the set is drawn
        // (and again for the features of data.spread).
        const double operations = samples * d.teacher_hidden * (d.features + 1.0);
        if (operations > max_teacher_operations)
          throw InputError(fmt::format("data.teacher_hidden, data.features, data.train_samples, data.test_samples: "
                                       "drawing the teacher's targets takes about {:.3g} operations (at most {:.3g})",
                                       operations, max_teacher_operations));
      }
      // The exact global optimum of a linear model on data it cannot fit exactly (docs/model.md
      // §5) solves (features + 1)-dimensional normal equations over all training samples.
      if (d.source == sim::DataSource::synthetic_regression && s.learning.model.kind == sim::ModelKind::linear &&
          (d.target == sim::RegressionTarget::teacher || d.spread > 0.0) && d.features > max_least_squares_features)
        throw InputError(fmt::format("data.features: the exact global optimum of a linear model with data.target = "
                                     "teacher or data.spread > 0 is solved for at most {} features, got {}",
                                     max_least_squares_features, d.features));
    }
  }
  check_message_memory(s, rates);
  const double per_trial = static_cast<double>(sim::trial_state_bytes(s));
  constexpr double limit = 2.0 * (1u << 30);
  if (per_trial > limit)
    throw InputError(fmt::format("staleness.tracked: tracking {} sources of {} users needs {:.1f} GiB per trial "
                                 "(at most 2 GiB); set staleness.tracked to at most {}",
                                 s.tracked_sources(), s.network.n, per_trial / (1u << 30),
                                 static_cast<std::uint64_t>(limit / (4.0 * s.network.n))));
}

std::string keys_help() {
  std::string out = "Scenario keys (TOML tables, or --set table.key=value):\n";
  for (const Key& k : registry())
    out += fmt::format("  {:<20} {}\n  {:<20}   accepts {}\n", k.info.name, k.info.meaning, "", k.info.accepts);
  return out;
}

}  // namespace timely::experiments
