#include "sim/quadratic.hpp"

#include <algorithm>
#include <bit>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <optional>
#include <utility>

#include "sim/input_error.hpp"
#include "sim/learning_bank.hpp"
#include "sim/message_layer.hpp"
#include "sim/protocol_list.hpp"
#include "sim/random.hpp"

namespace timely::sim {
namespace {

using namespace engine;

// The step size at simulated time t: the same schedules as the neural models (docs/model.md §4).
double step_size(const TrainSpec& t, double time) {
  switch (t.schedule) {
    case LrSchedule::inverse_time: return t.lr / (1.0 + time / t.decay_time);
    case LrSchedule::step: return t.lr * std::pow(t.step_factor, std::floor(time / t.step_time));
    case LrSchedule::constant: break;
  }
  return t.lr;
}

// Maximum of n non-negative values under point updates: a tournament tree whose leaves are
// the values (padded with 0) and whose every inner node holds the larger of its children.
// An update costs log2(n) comparisons; the maximum is the root.
class MaxTree {
 public:
  explicit MaxTree(std::size_t n) : leaves_(std::bit_ceil(std::max<std::size_t>(n, 1))), node_(2 * leaves_, 0.0) {}
  void set(std::size_t i, double value) {
    std::size_t k = i + leaves_;
    node_[k] = value;
    for (k >>= 1; k > 0; k >>= 1) node_[k] = std::max(node_[2 * k], node_[2 * k + 1]);
  }
  double max() const { return node_[1]; }

 private:
  std::size_t leaves_;
  std::vector<double> node_;
};

// The models of one trial and their metrics.
//
// Exact time averages: between events the state is constant, so the integral of a metric
// over the window is the sum of (its value after an event) x (time to the next event).
// before_event adds that product lazily, so every event costs O(1) for the integrals. The
// metrics themselves are maintained incrementally: each user's error E_i = ||x_i - a_bar||^2
// is recomputed in O(d) whenever x_i changes (so E_i itself carries no accumulated error), the
// sums sum_i E_i and sum_i x_i are updated by the change, and the worst E_i is the root of a
// tournament tree (O(log n)). The consensus distance is then
// (1/n) sum_i E_i - ||xbar - a_bar||^2 (O(d)).
//
// Floating drift: an incremental sum updated by differences accumulates a rounding error of
// about one ulp of its largest magnitude per event, and keeps the error of values since left
// behind (an error that shrank by orders of magnitude would still carry the rounding of its
// early, large sums). So both sums are recomputed from scratch (from the exact per-user E_i and
// the models) every n events: O(n d) per n events, O(d) per event amortised, and the error of
// any sum is then that of at most n incremental steps on values of its current magnitude,
// about n ulps. The consensus distance is a difference of two non-negative terms; it loses
// relative precision only when it is many orders of magnitude below the mean error, and is
// clamped at 0 against rounding.
//
// Divergence (docs/model.md §4): the first time a model or a metric becomes non-finite (a
// step size with |rho| > 1 makes the models grow geometrically). A model is finite exactly
// when its error E_i is (a sum of squares has no cancellation), so checking E_i after each
// change covers the models; the sums, the consensus distance and the integrals are checked
// too. From then on no arithmetic runs and nothing more is integrated or observed.
//
// A server (FedAvg's rounds) holds a model of its own, starting at 0 like every user, and
// weighs every client equally (the quadratic users have no data sets). A round whose clients
// train makes the server's model x the mean over its clients S of rho x + (1 - rho) a_c,
// that is a_S + rho (x - a_S) with a_S the clients' mean optimum. Observed::server hands
// the server's model to every user after each round, so that the users' metrics are the
// server's (the average model is the server's, the consensus distance 0), as the neural
// models report FedAvg; Observed::users hands it to the clients only.
// The largest squared distance a run may reach and still count as finite (see set_error).
const double largest_error = std::sqrt(std::numeric_limits<double>::max());

class QuadraticState {
 public:
  QuadraticState(const Scenario& s, const QuadraticProblem& p, Observed observed)
      : s_(s), p_(p), n_(p.users), d_(p.dimension), x_(static_cast<std::size_t>(n_) * d_, 0.0), error_(n_),
        sum_(d_, 0.0), worst_(n_), scratch_(d_), observed_(observed), server_(d_, 0.0), round_sum_(d_, 0.0) {
    if (s.learning.train.schedule == LrSchedule::constant) rho_ = quadratic_contraction(s.learning.train.lr, s.learning.train.steps);
    // Every user starts at 0: E_i = ||a_bar||^2.
    double start = 0.0;
    for (std::uint32_t k = 0; k < d_; ++k) start += p.mean[k] * p.mean[k];
    initial_distance_ = std::sqrt(start);
    std::fill(error_.begin(), error_.end(), start);
    for (std::uint32_t i = 0; i < n_; ++i) worst_.set(i, start);
    recompute();
    if (!refresh()) diverge(0.0);
  }

  bool diverged() const { return diverged_at_.has_value(); }
  const double* model(std::uint32_t i) const { return x_.data() + static_cast<std::size_t>(i) * d_; }
  std::uint32_t dimension() const { return d_; }
  const std::optional<double>& diverged_at() const { return diverged_at_; }

  // tau full-gradient steps of user u: x_u <- rho x_u + (1 - rho) a_u.
  void train(std::uint32_t u, double t) {
    if (diverged()) return;
    const double rho = contraction(t);
    double* x = model(u);
    const double* a = p_.optimum(u);
    double error = 0.0;
    for (std::uint32_t k = 0; k < d_; ++k) {
      const double next = rho * x[k] + (1.0 - rho) * a[k];
      sum_[k] += next - x[k];
      x[k] = next;
      const double e = next - p_.mean[k];
      error += e * e;
    }
    set_error(u, error);
    changed(t);
  }

  // Receiver r takes the average of its model and the sender's.
  void mix_into(std::uint32_t r, std::uint32_t sender, double t) { mix_from(r, model(sender), t); }

  // Receiver r takes the average of its model and y (a user's model, or a copy in flight).
  void mix_from(std::uint32_t r, const double* y, double t) {
    replace(r, t, [&](std::uint32_t k, double x) { return 0.5 * x + 0.5 * y[k]; });
  }
  // User r's model becomes y (D-PSGD's weighted average of its neighbourhood).
  void assign(std::uint32_t r, const double* y, double t) {
    replace(r, t, [&](std::uint32_t k, double) { return y[k]; });
  }

  // User r's model entry k becomes next(k, x_k); the running sum and r's error follow.
  template <class Next>
  void replace(std::uint32_t r, double t, Next&& next_of) {
    if (diverged()) return;
    double* x = model(r);
    double error = 0.0;
    for (std::uint32_t k = 0; k < d_; ++k) {
      const double next = next_of(k, x[k]);
      sum_[k] += next - x[k];
      x[k] = next;
      const double e = next - p_.mean[k];
      error += e * e;
    }
    set_error(r, error);
    changed(t);
  }

  // Exchange: both take the average.
  void mix_both(std::uint32_t i, std::uint32_t j, double t) {
    if (diverged()) return;
    double* x = model(i);
    double* y = model(j);
    double error = 0.0;
    for (std::uint32_t k = 0; k < d_; ++k) {
      const double next = 0.5 * x[k] + 0.5 * y[k];
      sum_[k] += (next - x[k]) + (next - y[k]);
      x[k] = next;
      y[k] = next;
      const double e = next - p_.mean[k];
      error += e * e;
    }
    set_error(i, error);
    set_error(j, error);
    changed(t);
  }

  // ---- a server's round ----
  void begin_round() {
    std::fill(round_sum_.begin(), round_sum_.end(), 0.0);
    round_clients_ = 0;
  }
  // Client c starts from the server's model and takes tau steps: the same update as train's.
  void train_client(std::uint32_t c, double t) {
    if (diverged()) return;
    const double rho = contraction(t);
    const double* a = p_.optimum(c);
    for (std::uint32_t k = 0; k < d_; ++k) round_sum_[k] += rho * server_[k] + (1.0 - rho) * a[k];
    ++round_clients_;
  }
  void add_client(std::uint32_t c) {
    if (diverged()) return;
    const double* x = model(c);
    for (std::uint32_t k = 0; k < d_; ++k) round_sum_[k] += x[k];
    ++round_clients_;
  }
  void end_round(std::span<const std::uint32_t> clients, double t) {
    if (diverged() || round_clients_ == 0) return;
    for (std::uint32_t k = 0; k < d_; ++k) server_[k] = round_sum_[k] / round_clients_;
    std::uint32_t moved = 0;
    if (observed_ == Observed::server) {
      for (std::uint32_t u = 0; u < n_; ++u) assign(u, server_.data());
      moved = n_;
    } else {
      for (const std::uint32_t c : clients) assign(c, server_.data());
      moved = static_cast<std::uint32_t>(clients.size());
    }
    // As changed(t), for `moved` changes at once.
    since_recompute_ += moved;
    if (since_recompute_ >= n_) recompute();
    if (nonfinite_ || !refresh()) diverge(t);
  }

  // Integrates the metrics up to t (the state has been constant since the last event).
  void integrate_to(double t) {
    if (!in_window_ || diverged()) return;
    const double dt = t - last_;
    error_integral_ += current_error_ * dt;
    worst_integral_ += current_worst_ * dt;
    consensus_integral_ += current_consensus_ * dt;
    last_ = t;
    if (!std::isfinite(error_integral_) || !std::isfinite(worst_integral_) || !std::isfinite(consensus_integral_))
      diverge(t);
  }
  void start_window(double t) {
    in_window_ = true;
    last_ = t;
  }
  // The time averages over [start, t], once integrated up to t; empty after divergence.
  std::optional<StationaryErrors> stationary(double length) const {
    if (diverged() || !in_window_) return std::nullopt;
    return StationaryErrors{error_integral_ / length, worst_integral_ / length, consensus_integral_ / length};
  }

  // The metrics at time t, computed from scratch (docs/interface.md: the quadratic model's
  // observation fields).
  Observation observe(double t) const {
    Observation o;
    o.time = t;
    std::fill(scratch_.begin(), scratch_.end(), 0.0);
    for (std::uint32_t i = 0; i < n_; ++i) {
      const double* x = model(i);
      for (std::uint32_t k = 0; k < d_; ++k) scratch_[k] += x[k];
    }
    double gap = 0.0;  // ||xbar - a_bar||^2
    for (std::uint32_t k = 0; k < d_; ++k) {
      scratch_[k] /= n_;
      const double e = scratch_[k] - p_.mean[k];
      gap += e * e;
    }
    double errors = 0.0, worst = 0.0, consensus = 0.0;
    for (std::uint32_t i = 0; i < n_; ++i) {
      const double* x = model(i);
      double e = 0.0, c = 0.0;
      for (std::uint32_t k = 0; k < d_; ++k) {
        e += (x[k] - p_.mean[k]) * (x[k] - p_.mean[k]);
        c += (x[k] - scratch_[k]) * (x[k] - scratch_[k]);
      }
      errors += e;
      consensus += c;
      worst = std::isnan(e) || std::isnan(worst) ? std::numeric_limits<double>::quiet_NaN() : std::max(worst, e);
    }
    // F(x) = (1/n) sum_i f_i(x) = ||x - a_bar||^2 / 2 + zeta^2 / 2.
    namespace m = metric;
    o[m::loss] = gap / 2.0;                             // F(xbar) - F(a_bar)
    o[m::user_loss] = errors / n_ / 2.0;                // mean over users of F(x_i) - F(a_bar)
    o[m::worst_user_loss] = worst / 2.0;                // their largest
    o[m::train_loss] = (gap + p_.heterogeneity) / 2.0;  // F(xbar)
    o[m::consensus_distance] = consensus / n_;
    o[m::user_error] = errors / n_;
    o[m::worst_user_error] = worst;
    o[m::distance_to_optimum] = initial_distance_ > 0.0 ? std::sqrt(gap) / initial_distance_ : 0.0;
    o[m::max_user_distance_to_optimum] = initial_distance_ > 0.0 ? std::sqrt(worst) / initial_distance_ : 0.0;
    observe_own_metrics(o, ModelsView(t, n_, d_, x_.data(), p_.mean.data()));
    return o;
  }

  void diverge(double t) {
    if (!diverged_at_) diverged_at_ = t;
  }

 private:
  double* model(std::uint32_t i) { return x_.data() + static_cast<std::size_t>(i) * d_; }

  // The per-update contraction at time t (train.schedule).
  double contraction(double t) const {
    return rho_ ? *rho_ : quadratic_contraction(step_size(s_.learning.train, t), s_.learning.train.steps);
  }

  // User u's model becomes y; the caller settles the sums and divergence.
  void assign(std::uint32_t u, const double* y) {
    double* x = model(u);
    double error = 0.0;
    for (std::uint32_t k = 0; k < d_; ++k) {
      sum_[k] += y[k] - x[k];
      x[k] = y[k];
      const double e = y[k] - p_.mean[k];
      error += e * e;
    }
    set_error(u, error);
  }

  void set_error(std::uint32_t u, double error) {
    error_sum_ += error - error_[u];
    error_[u] = error;
    // A squared distance above sqrt(largest double) counts as divergence, like a non-finite
    // one: the statistics over trials square the values, and a run with such errors (an
    // unstable step, |1 - lr| > 1, before it reaches infinity) printed "1e+288 ± inf".
    if (error <= largest_error) worst_.set(u, error);
    else nonfinite_ = true;
  }

  // After every change: the periodic exact recomputation, the current metrics, divergence.
  void changed(double t) {
    if (++since_recompute_ >= n_) recompute();
    if (nonfinite_ || !refresh()) diverge(t);
  }

  void recompute() {
    since_recompute_ = 0;
    error_sum_ = 0.0;
    for (double e : error_) error_sum_ += e;
    std::fill(sum_.begin(), sum_.end(), 0.0);
    for (std::uint32_t i = 0; i < n_; ++i) {
      const double* x = model(i);
      for (std::uint32_t k = 0; k < d_; ++k) sum_[k] += x[k];
    }
  }

  // The current metrics from the maintained sums; false if one is not finite.
  bool refresh() {
    double gap = 0.0;
    for (std::uint32_t k = 0; k < d_; ++k) {
      const double e = sum_[k] / n_ - p_.mean[k];
      gap += e * e;
    }
    current_error_ = error_sum_ / n_;
    current_worst_ = worst_.max();
    const double consensus = current_error_ - gap;
    if (!std::isfinite(current_error_) || !std::isfinite(consensus)) return false;
    current_consensus_ = std::max(0.0, consensus);
    return true;
  }

  const Scenario& s_;
  const QuadraticProblem& p_;
  std::uint32_t n_, d_;
  std::vector<double> x_;      // user-major: x_i[k] = x_[i * d + k]
  std::vector<double> error_;  // E_i, exact for the current x_i
  std::vector<double> sum_;    // sum_i x_i, maintained
  double error_sum_ = 0.0;     // sum_i E_i, maintained
  MaxTree worst_;
  std::optional<double> rho_;  // constant schedule: one rho for the whole run
  double initial_distance_ = 0.0;
  std::uint32_t since_recompute_ = 0;
  bool nonfinite_ = false;
  double current_error_ = 0.0, current_worst_ = 0.0, current_consensus_ = 0.0;
  bool in_window_ = false;
  double last_ = 0.0;
  double error_integral_ = 0.0, worst_integral_ = 0.0, consensus_integral_ = 0.0;
  std::optional<double> diverged_at_;
  mutable std::vector<double> scratch_;
  Observed observed_;
  std::vector<double> server_, round_sum_;  // a server's model, and its round's sum
  std::uint32_t round_clients_ = 0;
};

// The quadratic model as a LearningBank (sim/learning_bank.hpp), which every protocol runs:
// the state, and observations on the grid 0, every, 2 every, ... taken before the first
// event after each grid time (the state is piecewise constant).
class QuadraticLearner {
 public:
  QuadraticLearner(const Scenario& s, const QuadraticProblem& p, Observed observed)
      : s_(s), p_(p), state_(s, p, observed) {}

  std::uint32_t size() const { return p_.users; }
  bool diverged() const { return state_.diverged(); }

  void before(double t) {
    state_.integrate_to(t);
    observe_until(t);
  }
  void start_window(double t) { state_.start_window(t); }
  void train(std::uint32_t user, double t) { state_.train(user, t); }
  void mix_into(std::uint32_t receiver, std::uint32_t sender, double t) { state_.mix_into(receiver, sender, t); }
  void mix_both(std::uint32_t i, std::uint32_t j, double t) { state_.mix_both(i, j, t); }
  void close(double t) { before(t); }

  // ---- a server's round (every client weighs 1) ----
  void begin_round() { state_.begin_round(); }
  void train_client(std::uint32_t c, double t) { state_.train_client(c, t); }
  void add_client(std::uint32_t c) { state_.add_client(c); }
  void end_round(std::span<const std::uint32_t> clients, double t) { state_.end_round(clients, t); }

  // Observations, times to target, the exact time averages over the window, divergence.
  void take(LearningTrialResult& result) {
    result.observations = take_observations();
    result.time_to_distance = time_to_distance();
    result.time_to_loss = time_to_loss();
    result.stationary = state_.stationary(s_.run.horizon - s_.run.warmup);
    result.heterogeneity = p_.heterogeneity;
    result.diverged_at = state_.diverged_at();
  }

  // ---- messages of the network layer (docs/model.md §7): a copy of a user's model ----
  std::uint32_t snapshot(std::uint32_t user) {
    const std::uint32_t id = messages_.acquire(state_.dimension());
    std::copy_n(std::as_const(state_).model(user), state_.dimension(), messages_.data(id));
    return id;
  }
  void mix_message(std::uint32_t receiver, std::uint32_t id, double t) { state_.mix_from(receiver, messages_.data(id), t); }
  void release(std::uint32_t id) { messages_.release(id); }
  void combine(std::uint32_t u, std::span<const std::uint32_t> ids, std::span<const double> weights, double t) {
    combined_.assign(state_.dimension(), 0.0);  // allocates on the first combine only
    for (std::size_t m = 0; m < ids.size(); ++m)
      for (std::uint32_t k = 0; k < state_.dimension(); ++k) combined_[k] += weights[m] * messages_.data(ids[m])[k];
    state_.assign(u, combined_.data(), t);
  }
  double message_bytes() const { return quadratic_message_bytes(state_.dimension()); }
  void count_bytes(const double* bytes_sent) { bytes_sent_ = bytes_sent; }

  std::vector<Observation> take_observations() { return std::move(observations_); }
  const std::optional<double>& time_to_distance() const { return reached_; }
  const std::optional<double>& time_to_loss() const { return reached_loss_; }

 private:
  void observe_until(double t) {
    while (next_ <= t && next_ <= s_.run.horizon && !state_.diverged()) {
      Observation o = state_.observe(next_);
      if (!finite(o)) {  // finite models whose metrics overflow: diverged at this grid time
        state_.diverge(next_);
        return;
      }
      const auto& distance = o[metric::distance_to_optimum];
      if (!reached_ && s_.learning.target_distance && distance && *distance <= *s_.learning.target_distance)
        reached_ = o.time;
      if (!reached_loss_ && s_.learning.target_loss && *o[metric::loss] <= *s_.learning.target_loss)
        reached_loss_ = o.time;
      if (bytes_sent_) o[metric::bytes_sent_per_user] = *bytes_sent_ / s_.network.n;
      observations_.push_back(std::move(o));
      next_ = s_.learning.observe.every * static_cast<double>(observations_.size());
    }
  }

  const Scenario& s_;
  const QuadraticProblem& p_;
  QuadraticState state_;
  MessagePool<double> messages_;  // models in flight (network layer)
  std::vector<double> combined_;  // D-PSGD: the weighted sum being formed
  const double* bytes_sent_ = nullptr;
  double next_ = 0.0;
  std::vector<Observation> observations_;
  std::optional<double> reached_, reached_loss_;
};

static_assert(LearningBank<QuadraticLearner>);

}  // namespace

double quadratic_contraction(double lr, std::uint32_t steps) { return std::pow(1.0 - lr, static_cast<double>(steps)); }

void check_quadratic_scenario(const Scenario& s) {
  const LearningSpec& l = s.learning;
  // Every learning protocol runs the quadratic model; its gossip mixes by plain averaging
  // (the exact theory's rule, docs/model.md §6.1), and "fedavg" is the protocol's alias.
  if (l.mixing.rule != MixingRule::average && l.mixing.rule != MixingRule::fedavg)
    throw InputError(fmt::format("mixing.rule: model.kind = \"quadratic\" accepts \"average\" (or \"fedavg\", the "
                                 "alias of learning.protocol = \"fedavg\"), got \"{}\"",
                                 to_string(l.mixing.rule)));
  if (l.mixing.fedavg_variance_correction)
    throw InputError("mixing.fedavg_variance_correction: model.kind = \"quadratic\" has no weight tensors to correct; "
                     "expected false");
  if (l.train.momentum > 0.0)
    throw InputError(fmt::format("train.momentum: model.kind = \"quadratic\" takes plain gradient steps; expected 0, got {}",
                                 l.train.momentum));
}

QuadraticProblem make_quadratic_problem(const Scenario& s) {
  check_quadratic_scenario(s);
  QuadraticProblem p;
  p.users = s.network.n;
  p.dimension = s.learning.data.features;
  const std::size_t d = p.dimension;
  p.optima.resize(static_cast<std::size_t>(p.users) * d);
  p.mean.assign(d, 0.0);
  // Standard normal draws scaled by the spread, so runs that differ only in data.spread share
  // their directions.
  Rng rng = make_rng(s.run.seed, Stream::data, 0);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  const double spread = s.learning.data.spread;
  for (double& a : p.optima) a = spread * normal(rng);
  for (std::uint32_t i = 0; i < p.users; ++i)
    for (std::size_t k = 0; k < d; ++k) p.mean[k] += p.optimum(i)[k];
  for (double& m : p.mean) m /= p.users;
  for (std::uint32_t i = 0; i < p.users; ++i)
    for (std::size_t k = 0; k < d; ++k) {
      const double e = p.optimum(i)[k] - p.mean[k];
      p.heterogeneity += e * e;
    }
  p.heterogeneity /= p.users;
  return p;
}

namespace {

QuadraticProblem pooled_problem(const QuadraticProblem& p) {
  QuadraticProblem pooled;
  pooled.users = 1;
  pooled.dimension = p.dimension;
  pooled.optima = p.mean;
  pooled.mean = p.mean;
  // The one user's objective is the users' mean, ||x - a_bar||^2 / 2 + zeta^2 / 2: it keeps
  // the population's zeta^2, which the training loss adds and the results report.
  pooled.heterogeneity = p.heterogeneity;
  return pooled;
}

}  // namespace

LearningTrialResult run_quadratic_trial(const Scenario& s, const Graph& graph, const QuadraticProblem& p,
                                        std::uint64_t index) {
  // The scenario's protocol (sim/protocol_list.hpp); the models start at 0 and draw nothing.
  // A protocol that pools the users' data gets one user with the mean objective (built per
  // trial, only then: d doubles; the learner keeps a reference to it).
  std::optional<QuadraticProblem> pooled;
  return run_protocol(s, graph, index, [&](Rng&, const LearningProtocolInfo& info) {
    return QuadraticLearner(s, info.pools_data ? pooled.emplace(pooled_problem(p)) : p, info.observed);
  });
}

double quadratic_message_bytes(std::uint32_t dimension) { return static_cast<double>(dimension) * sizeof(double); }

std::uint64_t quadratic_state_bytes(const Scenario& s) {
  // A protocol that pools the data has one user (and a pooled problem of d doubles).
  const std::uint64_t n = learning_protocol(s).pools_data ? 1 : s.network.n, d = s.learning.data.features;
  // Models, per-user errors, the tree (at most 4n entries), the sums.
  return sizeof(double) * (n * d + n + 4 * n + 2 * d);
}

std::uint64_t quadratic_problem_bytes(const Scenario& s) {
  const std::uint64_t n = s.network.n, d = s.learning.data.features;
  return sizeof(double) * (n * d + d);
}

}  // namespace timely::sim
