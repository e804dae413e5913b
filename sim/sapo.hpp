#pragma once
// SAPO-style swarms (Gensyn, "Sharing is Caring: Efficient LM Post-Training with Collective RL
// Experience Sharing", arXiv 2509.08721): each user keeps its own policy (a softmax model) and
// shares rollouts (a question, the answers its policy sampled, their rewards) instead of
// models, and trains with GRPO on sapo.local of its own rollouts plus sapo.external drawn
// from those it received. timely's reading of the abstract, with every choice it leaves open a
// key, is docs/model.md §4.3. Internal to sim/.
//
// Each user draws from two engines of its own (make_rng(seed, stream, trial << 32 | user)): its
// update clock from Stream::experience_clocks, so that when it updates does not depend on what
// it learns, and its questions, answers and draw of external rollouts from Stream::experience.
// Sharing (targets, latency, loss) draws from the trial's engine. So a user that takes no
// external rollouts (sapo.external = 0) trains exactly as it would alone, whatever is shared.
#include <algorithm>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <vector>

#include "sim/learning_bank.hpp"
#include "sim/model_bank.hpp"
#include "sim/modest_sampling.hpp"
#include "sim/protocols.hpp"
#include "sim/round_traffic.hpp"
#include "sim/uplinks.hpp"
#include "sim/topology.hpp"
#include "sim/user_clocks.hpp"

namespace timely::sim {

// A bank whose users' models are policies the swarm trains itself: the neural models (the
// quadratic model has no answers to sample; Sapo::check refuses it).
template <class B>
concept PolicyBank = LearningBank<B> && requires(B& b, const B& cb, const ExperienceCounts* counts) {
  { b.policies() } -> std::same_as<ModelBank&>;
  { cb.learning_data() } -> std::same_as<const LearningData&>;
  b.count_experience(counts);  // the observations read the swarm's running counts
};

// What one rollout message holds (docs/model.md §4.3): the question's features as 32-bit
// floats, each answer as a 32-bit class and its reward as one byte, and a 16-byte header
// (generator, its update count, the question's id).
inline double rollout_bytes(std::size_t features, std::uint32_t answers) {
  return 4.0 * static_cast<double>(features) + 5.0 * answers + 16.0;
}

namespace sapo {

// GRPO's group-normalised advantages (Shao et al., arXiv 2402.03300): A_i = (r_i - mean r) / sd r
// over one question's answers, sd the population's. False (advantages 0) when every answer
// got the same reward: such a rollout carries no gradient and is never trained on.
inline bool group_advantages(const double* rewards, std::uint32_t g, double* advantages) {
  double mean = 0.0;
  for (std::uint32_t i = 0; i < g; ++i) mean += rewards[i];
  mean /= g;
  double var = 0.0;
  for (std::uint32_t i = 0; i < g; ++i) var += (rewards[i] - mean) * (rewards[i] - mean);
  var /= g;
  if (!(var > 0.0)) {
    std::fill(advantages, advantages + g, 0.0);
    return false;
  }
  const double sd = std::sqrt(var);
  for (std::uint32_t i = 0; i < g; ++i) advantages[i] = (rewards[i] - mean) / sd;
  return true;
}

// KL(p || q) in nats from two columns of log-probabilities (finite: they come from a stable
// log-softmax).
template <class P, class Q>
double kl_divergence(const P& log_p, const Q& log_q) {
  double kl = 0.0;
  for (Eigen::Index c = 0; c < log_p.size(); ++c) kl += std::exp(log_p[c]) * (log_p[c] - log_q[c]);
  return std::max(kl, 0.0);  // rounding can leave a tiny negative
}

// The rollouts alive in a swarm, each stored once however many users hold it (its generator
// during its update, the messages in flight, the pools it waits in), in flat arrays recycled
// through a free list: no allocation per rollout once the swarm is warm.
class RolloutStore {
 public:
  RolloutStore(std::uint32_t answers, std::uint32_t classes) : g_(answers), m_(classes) {}

  struct Head {
    std::uint32_t question;  // index into the training set
    std::uint32_t generator;
    std::uint64_t made_update;  // the generator's local updates before this one
    double made_time;
    bool informative;  // some answers were rewarded differently: non-zero advantages
    std::uint32_t refs;
  };

  std::uint32_t make() {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(heads_.size());
      heads_.emplace_back();
      answers_.resize(answers_.size() + g_);
      advantages_.resize(advantages_.size() + g_);
      log_probs_.resize(log_probs_.size() + m_);
    }
    heads_[slot].refs = 1;
    return slot;
  }
  void hold(std::uint32_t slot) { ++heads_[slot].refs; }
  void drop(std::uint32_t slot) {
    if (--heads_[slot].refs == 0) free_.push_back(slot);
  }
  Head& head(std::uint32_t slot) { return heads_[slot]; }
  int* answers(std::uint32_t slot) { return answers_.data() + std::size_t{slot} * g_; }
  double* advantages(std::uint32_t slot) { return advantages_.data() + std::size_t{slot} * g_; }
  // The generator's log pi(. | question) when it answered, for the divergence at use.
  Eigen::Map<Eigen::VectorXd> log_probs(std::uint32_t slot) {
    return {log_probs_.data() + std::size_t{slot} * m_, static_cast<Eigen::Index>(m_)};
  }

 private:
  std::uint32_t g_, m_;
  std::vector<Head> heads_;
  std::vector<int> answers_;
  std::vector<double> advantages_, log_probs_;
  std::vector<std::uint32_t> free_;
};

}  // namespace sapo

// One trial of a SAPO swarm over a bank of policies (docs/model.md §4.3). At each tick of its
// update clock (c_i + Exp(mu_i); while offline under churn, steps 1 and 3 only, or nothing
// with churn.offline_updates = false) user u
//  1. draws sapo.questions questions from its shard and samples sapo.answers answers to each
//     from its policy; the verifiable reward of an answer is 1 if it is the question's label,
//     else 0 (the labels are read here only: training sees rewards);
//  2. sends each rollout to sapo.share_fanout of its neighbours chosen uniformly (all of them by
//     default), through the network layer: each rollout queues on u's uplink (its bytes /
//     bandwidth), then the latency; lost with gossip.loss, or if u goes offline while sending
//     or the receiver is offline when it arrives;
//  3. trains on a batch of its first sapo.local informative rollouts of step 1 and
//     sapo.external drawn uniformly without replacement from the informative rollouts it
//     received in its last sapo.keep updates: train.steps steps of GRPO's clipped surrogate
//     (models::Network::policy_step) with the ratio taken to its own policy before the first
//     step: shared rollouts are used without importance weighting, as SAPO does.
template <PolicyBank Bank>
class Swarm {
 public:
  Swarm(const Scenario& s, const Graph& graph, Bank& bank, Rng& rng, std::uint64_t index, LearningTrialResult& result)
      : s_(s), spec_(s.learning.sapo), bank_(bank), models_(bank.policies()), data_(bank.learning_data()),
        train_(data_.data->train), rng_(rng), result_(result), n_(bank.size()), g_(spec_.answers),
        m_(static_cast<std::uint32_t>(train_.classes)), avail_(s, n_, index), interval_(update_intervals(s, n_)),
        net_(data_.architecture, static_cast<int>(std::max(spec_.questions, spec_.local + spec_.external))),
        store_(g_, m_), bytes_(rollout_bytes(static_cast<std::size_t>(train_.features()), g_)), updates_(n_, 0),
        pools_(n_), clock_(s, bank, n_, result, bytes_), links_(s, n_, bytes_, avail_, rng, clock_.traffic()) {
    users_.reserve(n_);
    clocks_.reserve(n_);
    for (std::uint32_t u = 0; u < n_; ++u) {
      users_.push_back(make_rng(s.run.seed, Stream::experience, index << 32 | u));
      clocks_.push_back(make_rng(s.run.seed, Stream::experience_clocks, index << 32 | u));
    }
    build_neighbours(graph);
    const Eigen::Index features = train_.features();
    const auto batch = static_cast<Eigen::Index>(spec_.local + spec_.external);
    gen_x_.resize(features, spec_.questions);
    gen_log_probs_.resize(m_, spec_.questions);
    generated_.resize(spec_.questions);
    rewards_.resize(g_);
    batch_x_.resize(features, std::max<Eigen::Index>(batch, 1));
    batch_answers_.resize(g_, std::max<Eigen::Index>(batch, 1));
    batch_advantages_.resize(g_, std::max<Eigen::Index>(batch, 1));
    batch_old_.resize(g_, std::max<Eigen::Index>(batch, 1));
    batch_log_probs_.resize(m_, std::max<Eigen::Index>(batch, 1));
    bank.count_experience(&all_);
  }

  void run() {
    ExperienceCounts& window = result_.experience.emplace();
    window_ = &window;
    for (std::uint32_t u = 0; u < n_; ++u) events_.push({interval_.draw(u, clocks_[u]), u, tick});
    while (!events_.empty()) {
      const Event e = events_.top();
      if (!clock_.step(e.t)) break;
      events_.pop();
      if (e.slot != tick) {
        deliver(e.user, e.slot, e.t);
        continue;
      }
      // Offline (churn), a user trains on what it has but shares nothing; with
      // churn.offline_updates = false it waits until it is back.
      if (const bool online = avail_.online(e.user, e.t); online || s_.churn.offline_updates)
        local_update(e.user, e.t, online);
      // Nothing is observed after a divergence, and no measured clock reads the models: stop.
      if (bank_.diverged()) break;
      events_.push({e.t + interval_.draw(e.user, clocks_[e.user]), e.user, tick});
    }
    clock_.finish();
  }

 private:
  static constexpr std::uint32_t tick = std::numeric_limits<std::uint32_t>::max();  // Event::slot of an update
  struct Event {
    double t;
    std::uint32_t user, slot;  // slot: a rollout arriving at user, or tick
    // Earliest first; at one time, arrivals (lower slots) before the user's update.
    bool operator>(const Event& o) const { return std::tie(t, user, slot) > std::tie(o.t, o.user, o.slot); }
  };
  struct Pooled {
    std::uint32_t slot;
    std::uint64_t arrived;  // the learner's updates before it arrived
  };

  // Both counts: from time 0 (the observations') and, from run.warmup on, the trial's.
  template <class F>
  void count(double t, F&& f) {
    f(all_);
    if (t >= s_.run.warmup) f(*window_);
  }

  void local_update(std::uint32_t u, double t, bool online) {
    auto policy = models_.params().col(u);
    Rng& mine = users_[u];
    generate(u, t, policy, mine);
    if (bank_.diverged()) return;
    if (online)
      for (std::uint32_t q = 0; q < spec_.questions; ++q) share(u, generated_[q], t);
    train(u, t, policy, mine);
    ++updates_[u];
    ++result_.local_updates;
    for (std::uint32_t q = 0; q < spec_.questions; ++q) store_.drop(generated_[q]);  // the generator's hold
    // The pool keeps what arrived in the learner's last sapo.keep updates.
    auto& pool = pools_[u];
    std::size_t kept = 0;
    for (const Pooled& p : pool) {
      if (updates_[u] - p.arrived < spec_.keep) pool[kept++] = p;
      else store_.drop(p.slot);
    }
    pool.resize(kept);
  }

  // Step 1: questions from u's shard, answers from its policy, their rewards and advantages.
  void generate(std::uint32_t u, double t, Eigen::Ref<ModelBank::Vector> policy, Rng& mine) {
    const auto& shard = data_.partition.shards[u];
    boost::random::uniform_int_distribution<std::size_t> pick(0, shard.size() - 1);
    for (std::uint32_t q = 0; q < spec_.questions; ++q) {
      const std::uint32_t question = shard[pick(mine)];
      gen_x_.col(q) = train_.x.col(question);
      const std::uint32_t slot = store_.make();
      store_.head(slot) = {question, u, updates_[u], t, false, 1};
      generated_[q] = slot;
    }
    net_.log_policy(policy, gen_x_, gen_log_probs_);
    if (!gen_log_probs_.allFinite()) {  // finite parameters whose logits overflow a float
      models_.diverge(t);
      return;
    }
    double reward = 0.0;
    std::uint64_t uninformative = 0;
    for (std::uint32_t q = 0; q < spec_.questions; ++q) {
      const std::uint32_t slot = generated_[q];
      auto& head = store_.head(slot);
      store_.log_probs(slot) = gen_log_probs_.col(q);
      int* answers = store_.answers(slot);
      const int label = train_.labels[head.question];  // the verifier: the only reader of labels
      for (std::uint32_t i = 0; i < g_; ++i) {
        answers[i] = sample_answer(gen_log_probs_.col(q), mine);
        rewards_[i] = answers[i] == label ? 1.0 : 0.0;
        reward += rewards_[i];
      }
      head.informative = sapo::group_advantages(rewards_.data(), g_, store_.advantages(slot));
      uninformative += !head.informative;
    }
    const double mean_reward = reward / (static_cast<double>(spec_.questions) * g_);
    count(t, [&](ExperienceCounts& c) {
      c.total_reward += mean_reward;
      ++c.rewarded_updates;
      c.rollouts_generated += spec_.questions;
      c.zero_advantage += uninformative;
    });
  }

  // Inverse-CDF draw of one answer from exp(log_probs), from the user's engine.
  int sample_answer(const Eigen::Ref<const Eigen::VectorXd>& log_probs, Rng& mine) {
    const double u = uniform_(mine);
    double cumulative = 0.0;
    for (std::uint32_t c = 0; c + 1 < m_; ++c) {
      cumulative += std::exp(log_probs[c]);
      if (u < cumulative) return static_cast<int>(c);
    }
    return static_cast<int>(m_ - 1);  // the rest of the mass, rounding included
  }

  // Step 2: one rollout to sapo.share_fanout uniformly chosen neighbours of u (all without it).
  void share(std::uint32_t u, std::uint32_t slot, double t) {
    if (complete_) {
      const std::uint32_t others = n_ - 1;
      const std::uint32_t f = std::min(fanout(others), others);
      for (std::uint32_t k = 0; k < f; ++k) {
        std::uint32_t j = k;
        if (f < others) {  // a partial Fisher-Yates shuffle of the persistent permutation of the others
          std::swap(others_[k], others_[k + uniform_below(rng_, others - k)]);
          j = others_[k];
        }
        send(u, j + static_cast<std::uint32_t>(j >= u), slot, t);
      }
      return;
    }
    const std::uint64_t begin = offsets_[u];
    const auto degree = static_cast<std::uint32_t>(offsets_[u + 1] - begin);
    const std::uint32_t f = std::min(fanout(degree), degree);
    for (std::uint32_t k = 0; k < f; ++k) {
      if (f < degree) std::swap(targets_[begin + k], targets_[begin + k + uniform_below(rng_, degree - k)]);
      send(u, targets_[begin + k], slot, t);
    }
  }
  std::uint32_t fanout(std::uint32_t all) const { return spec_.share_fanout.value_or(all); }

  // A rollout from `from` to `to`, ready at t, through the links (sim/uplinks.hpp); one that
  // arrives before the horizon is held by its arrival event.
  void send(std::uint32_t from, std::uint32_t to, std::uint32_t slot, double t) {
    if (const double arrival = links_.send(from, to, t); arrival < s_.run.horizon) {
      store_.hold(slot);
      events_.push({arrival, to, slot});
    }
  }

  void deliver(std::uint32_t u, std::uint32_t slot, double t) {
    pools_[u].push_back({slot, updates_[u]});
    count(t, [](ExperienceCounts& c) { ++c.rollouts_received; });
  }

  // Step 3: the batch (own rollouts first, then the drawn external ones) and GRPO's steps.
  void train(std::uint32_t u, double t, Eigen::Ref<ModelBank::Vector> policy, Rng& mine) {
    batch_.clear();
    for (std::uint32_t q = 0; q < spec_.questions && batch_.size() < spec_.local; ++q)
      if (store_.head(generated_[q]).informative) batch_.push_back(generated_[q]);
    const std::size_t locals = batch_.size();
    if (spec_.external > 0) {
      candidates_.clear();
      for (std::size_t k = 0; k < pools_[u].size(); ++k)
        if (store_.head(pools_[u][k].slot).informative) candidates_.push_back(static_cast<std::uint32_t>(k));
      const auto drawn = static_cast<std::uint32_t>(std::min<std::size_t>(spec_.external, candidates_.size()));
      for (std::uint32_t k = 0; k < drawn; ++k) {
        const auto c = static_cast<std::uint32_t>(candidates_.size());
        boost::random::uniform_int_distribution<std::uint32_t> pick(k, c - 1);
        std::swap(candidates_[k], candidates_[pick(mine)]);
        batch_.push_back(pools_[u][candidates_[k]].slot);
      }
    }
    const auto b = static_cast<Eigen::Index>(batch_.size());
    if (b == 0) return;
    for (Eigen::Index j = 0; j < b; ++j) {
      const std::uint32_t slot = batch_[static_cast<std::size_t>(j)];
      batch_x_.col(j) = train_.x.col(store_.head(slot).question);
      batch_answers_.col(j) = Eigen::Map<const Eigen::VectorXi>(store_.answers(slot), g_);
      batch_advantages_.col(j) = Eigen::Map<const Eigen::VectorXd>(store_.advantages(slot), g_);
    }
    const auto x = batch_x_.leftCols(b);
    auto log_probs = batch_log_probs_.leftCols(b);
    net_.log_policy(policy, x, log_probs);
    for (Eigen::Index j = 0; j < b; ++j)
      for (std::uint32_t i = 0; i < g_; ++i) batch_old_(i, j) = log_probs(batch_answers_(i, j), j);
    // The age of the shared experience used (docs/model.md §4.3).
    for (std::size_t k = 0; k < batch_.size() - locals; ++k) {
      const std::uint32_t slot = batch_[locals + k];
      const auto& head = store_.head(slot);
      const std::uint64_t age = updates_[head.generator] - head.made_update;
      const std::uint64_t waited = updates_[u] - pools_[u][candidates_[k]].arrived;
      const double divergence = sapo::kl_divergence(store_.log_probs(slot), log_probs.col(static_cast<Eigen::Index>(locals + k)));
      count(t, [&](ExperienceCounts& c) {
        c.age_updates_total += static_cast<double>(age);
        c.learner_age_total += static_cast<double>(waited);
        c.age_time_total += t - head.made_time;
        c.divergence_total += divergence;
        ++c.age_histogram[ExperienceCounts::age_bin(age)];
      });
    }
    count(t, [&](ExperienceCounts& c) {
      c.local_used += locals;
      c.external_used += batch_.size() - locals;
    });
    const models::Network<float>::PolicyBatch step{batch_answers_.leftCols(b), batch_old_.leftCols(b),
                                                   batch_advantages_.leftCols(b)};
    const auto lr = static_cast<float>(learning_rate(s_.learning.train, t));
    for (std::uint32_t k = 0; k < s_.learning.train.steps; ++k)
      net_.policy_step(policy, x, step, spec_.clip_low, spec_.clip_high, lr);
    models_.check(policy, t);
  }

  // Whom u may send to: every other user on the complete graph (no list); else its neighbours,
  // copied once into rows that the partial shuffles reorder in place.
  void build_neighbours(const Graph& graph) {
    complete_ = std::holds_alternative<CompleteGraph>(graph);
    if (complete_) {
      others_.resize(n_ - 1);
      for (std::uint32_t j = 0; j + 1 < n_; ++j) others_[j] = j;
      return;
    }
    offsets_.assign(1, 0);
    for (std::uint32_t u = 0; u < n_; ++u) {
      const std::vector<std::uint32_t> row = neighbours(graph, u);
      targets_.insert(targets_.end(), row.begin(), row.end());
      offsets_.push_back(targets_.size());
    }
  }

  const Scenario& s_;
  const SapoSpec& spec_;
  Bank& bank_;
  ModelBank& models_;
  const LearningData& data_;
  const models::Dataset& train_;
  Rng& rng_;  // the trial's engine: sharing's draws
  LearningTrialResult& result_;
  std::uint32_t n_, g_, m_;
  modest::Availability avail_;
  UpdateIntervals interval_;
  models::Network<float> net_;
  std::vector<Rng> users_, clocks_;  // each user's own engines: its choices, its update clock
  sapo::RolloutStore store_;
  double bytes_;
  std::vector<std::uint64_t> updates_;  // each user's local updates so far
  std::vector<std::vector<Pooled>> pools_;
  RoundClock<Bank> clock_;
  Uplinks links_;  // the rollouts' transfers, counted by clock_
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  bool complete_ = true;
  std::vector<std::uint32_t> others_, targets_;
  std::vector<std::uint64_t> offsets_;
  ExperienceCounts all_;
  ExperienceCounts* window_ = nullptr;
  // Scratch, sized once.
  Eigen::MatrixXf gen_x_, batch_x_;
  Eigen::MatrixXd gen_log_probs_, batch_log_probs_, batch_advantages_, batch_old_;
  Eigen::MatrixXi batch_answers_;
  std::vector<std::uint32_t> generated_, batch_, candidates_;
  std::vector<double> rewards_;
  boost::random::uniform_01<double> uniform_;
};

struct Sapo {
  static constexpr LearningProtocolInfo info{
      "sapo", "SAPO",
      "swarm RL: each user trains its own policy by GRPO on sapo.local own and sapo.external received rollouts, and "
      "shares rollouts, not models (Gensyn, arXiv 2509.08721)",
      false, Observed::own, /*pools_data=*/false, /*reports_rounds=*/false, /*reports_experience=*/true};
  static void check(const Scenario& s);  // sim/protocols.cpp

  template <LearningBank Bank>
  static void run(const Scenario& s, const Graph& graph, Bank& bank, Rng& rng, std::uint64_t index,
                  LearningTrialResult& result) {
    if constexpr (PolicyBank<Bank>)
      Swarm<Bank>(s, graph, bank, rng, index, result).run();
    else  // Sapo::check refuses the models without answers (the quadratic model)
      throw std::logic_error("sapo: the scenario's model has no policy (Sapo::check should have refused it)");
  }
};

}  // namespace timely::sim
