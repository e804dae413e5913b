#include "experiments/scenario_key_table.hpp"

#include <charconv>
#include <cmath>
#include <deque>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sim/choices.hpp"
#include "sim/churn.hpp"
#include "sim/input_error.hpp"
#include "sim/user_clocks.hpp"

namespace timely::experiments::key_table {

using sim::Scenario;

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

namespace {

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

}  // namespace

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

}  // namespace timely::experiments::key_table

namespace timely::experiments {

using key_table::Key;
using key_table::registry;
using sim::Scenario;

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

std::string keys_help() {
  std::string out = "Scenario keys (TOML tables, or --set table.key=value):\n";
  for (const Key& k : registry())
    out += fmt::format("  {:<20} {}\n  {:<20}   accepts {}\n", k.info.name, k.info.meaning, "", k.info.accepts);
  return out;
}

}  // namespace timely::experiments
