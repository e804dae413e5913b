#pragma once
// MoDeST (de Vos et al., "MoDeST: Bridging the gap between federated and decentralized
// learning with decentralized sampling", arXiv 2302.13837; its public code sacs-epfl/plexus): a learning
// protocol without a server in which each round a small sample of users trains the previous
// round's average and an aggregator averages their models. timely's reading, with every
// choice the paper's code leaves to the environment made a key, is docs/model.md §4.1. Each
// round modest.aggregators users average, redundant copies of one another. Under churn each
// user samples from its own view of who has joined (sim/modest_views.hpp); without churn every
// view stays complete, so none is stored and the samples differ only through who answers a
// ping. Internal to sim/.
#include <algorithm>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "sim/learning_bank.hpp"
#include "sim/modest_sampling.hpp"
#include "sim/modest_views.hpp"
#include "sim/protocols.hpp"
#include "sim/round_traffic.hpp"
#include "sim/uplinks.hpp"
#include "sim/user_clocks.hpp"
#include "sim/window.hpp"

namespace timely::sim {

// One trial of MoDeST's rounds over a bank (sim/learning_bank.hpp). The aggregator of round k
// holds the round's model m_k from time T_k. It pings the users in round k's order until
// modest.sample answer, and sends m_k to them one after another on its uplink. Each trainer
// trains for its update interval (c_i + Exp(mu_i)), pings round k+1's order until
// modest.aggregators users answer, its aggregators, and sends its model to each, the highest
// uplink first. Each aggregator averages once floor(sample * success_fraction) of the models
// it received have arrived, or modest.timeout after its first if at least min_models did; the
// first average made while online is m_{k+1}, the others are dropped (redundant copies of the
// round: more aggregators buy tolerance of one that leaves, at the cost of more uploads).
// If no aggregator averages online, the round is abandoned and the holder of m_k starts
// round k+2's sample with m_k. The arithmetic is the bank's server round (train_client from
// the round's model, end_round averaging), so with every user in the sample, all models
// awaited and nothing delayed, a round is a full-participation FedAvg round.
template <LearningBank Bank>
class ModestRounds {
 public:
  ModestRounds(const Scenario& s, Bank& bank, Rng& rng, std::uint64_t index, LearningTrialResult& result)
      : s_(s), bank_(bank), rng_(rng), result_(result), n_(bank.size()), avail_(s, n_, index),
        interval_(update_intervals(s, n_)), busy_until_(n_, -1.0), clock_(s, bank, n_, result),
        links_(s, n_, bank.message_bytes(), avail_, rng, clock_.traffic()) {
    sample_size_ = std::min(s.learning.modest.sample, n_);
    aggregators_ = std::min(s.learning.modest.aggregators, sample_size_);
    need_ = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::floor(sample_size_ * s.learning.modest.success_fraction)));
    if (avail_.churns()) sync_.emplace(s, n_, sample_size_, avail_, index);
    stamp_of_.assign(n_, 0);
  }

  void run() {
    RoundCounts& counts = result_.round_counts.emplace();
    // Round 0's model is the initial one, held by the first user of round 0's order online at
    // the start (or the first to come online).
    std::uint64_t round = 0;
    modest::round_order(n_, round, order_);
    auto [holder, t] = first_online(order_, 0.0);
    std::vector<Arrival> arrivals;
    std::vector<std::uint32_t> accepted;
    arrivals.reserve(static_cast<std::size_t>(sample_size_) * aggregators_);
    accepted.reserve(sample_size_);
    while (t < s_.run.horizon) {
      // The holder pings round k's order (the users its view has joined) and sends m_k, with
      // its view, to those who answer.
      if (sync_) sync_->advance(t);
      modest::round_order(n_, round, order_);
      ping_in_order(holder, t, sample_size_);
      if (sync_ && !answers_.empty()) sync_->views().mark_active(holder, round);
      const double round_start = t;
      arrivals.clear();
      adopters_.assign(1, holder);
      for (const auto& [answered, trainer] : answers_) {
        const double received = send(holder, trainer, answered);
        if (!(received < s_.run.horizon)) continue;
        if (sync_) sync_->views().carry(holder, trainer);
        adopters_.push_back(trainer);
        // A model for a later round interrupts training in progress (plexus).
        if (busy_until_[trainer] > received) ++counts.trainings_interrupted;
        const double done = received + interval_.draw(trainer, rng_);
        busy_until_[trainer] = done;
        ++counts.trainings_started;
        counts.model_age_total += received - round_start;
        if (avail_.online_until(trainer, received) < done) {  // went offline while training
          ++counts.trainings_lost;
          continue;
        }
        ++result_.local_updates;
        arrivals.push_back({done, trainer, 0, 0});
      }
      // Each trainer finds round k+1's aggregators (the first `a` of its order to answer) and
      // sends its model to each, the highest uplink first, one transfer after another on its
      // own uplink: one arrival per (trainer, aggregator), the first in the trainer's slot.
      // What it would sample for round k+1 is kept for the overlap.
      modest::round_order(n_, round + 1, order_);
      const std::size_t trainers = arrivals.size();
      trainer_samples_.resize(trainers * sample_size_);
      trainer_sampled_.resize(trainers);
      for (std::size_t i = 0; i < trainers; ++i) {
        const std::uint32_t trainer = arrivals[i].trainer;
        const double done = arrivals[i].time;
        const auto slot = static_cast<std::uint32_t>(i);
        if (sync_) sync_->catch_up(trainer, done);
        trainer_sampled_[i] = derive_sample(trainer, &trainer_samples_[i * sample_size_]);
        ping_in_order(trainer, done, aggregators_);
        if (answers_.empty()) {
          arrivals[i] = {std::numeric_limits<double>::infinity(), trainer, 0, slot};
          continue;
        }
        if (sync_) sync_->views().mark_active(trainer, round);
        // The fastest uplink first: it gets the models first, so it tends to average first and
        // then sends m_{k+1} to the next sample fastest (plexus prefers high-bandwidth
        // aggregators, docs/model.md §4.1). Equal uplinks keep the answer order, (time, user),
        // as a stable sort would, without its buffer.
        std::sort(answers_.begin(), answers_.end(), [&](const auto& x, const auto& y) {
          return std::make_tuple(links_.transfer(x.second), x) < std::make_tuple(links_.transfer(y.second), y);
        });
        for (std::size_t j = 0; j < answers_.size(); ++j) {
          const auto [answered, aggregator] = answers_[j];
          const Arrival sent{send(trainer, aggregator, answered), trainer, aggregator, slot};
          if (j == 0)
            arrivals[i] = sent;
          else
            arrivals.push_back(sent);
        }
      }
      std::sort(arrivals.begin(), arrivals.end(), [](const Arrival& x, const Arrival& y) { return x.time < y.time; });
      // The first aggregator to average while online wins the round; the other aggregators'
      // averages (redundant copies, or a fork's partial rounds) are dropped and send nothing.
      const auto [aggregator, at, models] = first_aggregation(arrivals);
      // The trainers' views reach their aggregators, in arrival order; the winner's sample for
      // round k+1 is derived from its view when it averages.
      bool derived = false;
      const auto derive_aggregator = [&, aggregator = aggregator, at = at] {
        if (sync_) sync_->catch_up(aggregator, at);
        aggregator_sampled_ = derive_sample(aggregator, aggregator_sample_.data());
        derived = true;
      };
      aggregator_sample_.resize(sample_size_);
      if (sync_)
        for (const Arrival& a : arrivals) {
          if (!(a.time < std::numeric_limits<double>::infinity())) break;
          if (models > 0 && !derived && a.time > at) derive_aggregator();
          sync_->views().carry(a.trainer, a.aggregator);
        }
      if (models > 0 && !derived) derive_aggregator();
      if (models == 0) {
        ++counts.rounds_abandoned;
        // Whoever holds m_k (its aggregator or a trainer that adopted it) and is online first
        // after the aggregator's timeout starts the next round with it. If all of them are
        // gone for good, the first user of the order to be online does (timely's reading: it
        // kept the last model it saw).
        double restart = arrivals.empty() || !(arrivals.front().time < std::numeric_limits<double>::infinity())
                             ? round_start + s_.learning.modest.timeout
                             : arrivals.front().time + s_.learning.modest.timeout;
        restart = std::max(restart, round_start + s_.learning.modest.ping_timeout);
        round += 2;
        std::tie(holder, t) = first_online(adopters_, restart);
        if (!(t < s_.run.horizon)) {
          modest::round_order(n_, round, order_);
          std::tie(holder, t) = first_online(order_, restart);
        }
        continue;
      }
      // The round's arithmetic, in time order: each accepted trainer from m_k, then the average.
      bank_.begin_round();
      accepted.clear();
      accepted_slots_.clear();
      bool ended = false;
      for (const Arrival& a : arrivals) {
        if (a.aggregator != aggregator || accepted.size() == models) continue;
        if (!clock_.step(a.time)) { ended = true; break; }
        bank_.train_client(a.trainer, a.time);
        accepted.push_back(a.trainer);
        accepted_slots_.push_back(a.slot);
      }
      if (ended || !clock_.step(at)) break;
      bank_.end_round(std::span<const std::uint32_t>(accepted.data(), accepted.size()), at);
      ++result_.rounds;
      ++counts.aggregations;
      counts.models_aggregated += accepted.size();
      add_overlaps(counts);
      holder = aggregator;
      t = at;
      ++round;
    }
    clock_.finish();
  }

 private:
  struct Arrival {
    double time;  // training done, then arrival at the aggregator (infinity: never)
    std::uint32_t trainer, aggregator;
    std::uint32_t slot;  // the trainer's sample for round k+1: trainer_samples_[slot * s], trainer_sampled_[slot] long
  };
  struct Aggregation {
    std::uint32_t aggregator;
    double time;
    std::size_t models;  // 0: abandoned
  };

  // The first of `users` to be online from time t on, and when.
  std::pair<std::uint32_t, double> first_online(const std::vector<std::uint32_t>& users, double t) const {
    std::pair<std::uint32_t, double> best{users.front(), std::numeric_limits<double>::infinity()};
    for (const std::uint32_t u : users)
      if (const double up = avail_.next_online(u, t); up < best.second) best = {u, up};
    return best;
  }

  // Whether `viewer`'s view has `user` joined (always, without churn).
  bool joined(std::uint32_t viewer, std::uint32_t user) const { return !sync_ || sync_->views().joined(viewer, user); }

  // The sample `viewer` derives from its view for the round of order_, without pinging: the
  // first s users of the order its view has joined, into out; returns how many (s unless the
  // view has fewer joined).
  std::uint32_t derive_sample(std::uint32_t viewer, std::uint32_t* out) const {
    std::uint32_t count = 0;
    for (std::size_t i = 0; count < sample_size_ && i < order_.size(); ++i)
      if (joined(viewer, order_[i])) out[count++] = order_[i];
    return count;
  }

  // A completed round's sample overlap (docs/model.md §4.1): for each accepted trainer, the
  // share of the s users of round k+1's sample that its view and its aggregator's agree on.
  void add_overlaps(RoundCounts& counts) {
    ++stamp_;
    for (std::uint32_t i = 0; i < aggregator_sampled_; ++i) stamp_of_[aggregator_sample_[i]] = stamp_;
    for (const std::uint32_t slot : accepted_slots_) {
      std::uint32_t common = 0;
      for (std::uint32_t i = 0; i < trainer_sampled_[slot]; ++i)
        common += stamp_of_[trainer_samples_[slot * sample_size_ + i]] == stamp_;
      counts.sample_overlap_total += static_cast<double>(common) / sample_size_;
      ++counts.sample_overlaps;
    }
  }


  double latency() { return links_.latency(); }
  bool lost() { return links_.lost(); }

  // A model from `from` to `to`, ready to go at t: it waits for the sender's uplink, takes
  // bytes / bandwidth on it and then the latency. Returns its arrival, or infinity if it is
  // lost (gossip.loss), its sender goes offline during the transfer or its receiver is offline
  // when it arrives. A user that is its own trainer or aggregator has the model at once: no
  // message.
  double send(std::uint32_t from, std::uint32_t to, double t) { return from == to ? t : links_.send(from, to, t); }

  // `from` pings order_ from time t until `want` users answered (itself answers at once). The
  // first `want` are pinged at t; a user answers a round trip later if it is online when the
  // ping arrives and neither message is lost; one that does not is given up ping_timeout after
  // its ping, and the next user of the order is pinged then. Fills answers_ with (time, user)
  // in answer order; fewer than `want` when the order runs out.
  void ping_in_order(std::uint32_t from, double t, std::uint32_t want) {
    answers_.clear();
    slots_.assign(want, t);  // a min-heap of the times the pinging slots are free
    for (std::size_t next = 0; answers_.size() < want && next < order_.size(); ++next) {
      if (!joined(from, order_[next])) continue;  // not in from's sample
      std::pop_heap(slots_.begin(), slots_.end(), std::greater<>{});
      const double at = slots_.back();
      slots_.pop_back();
      const std::uint32_t user = order_[next];
      if (user == from && avail_.online(from, at)) {
        answers_.emplace_back(at, user);
        continue;
      }
      const double there = at + latency();
      const bool answered = avail_.online(user, there) && !lost() && !lost();
      clock_.traffic().ping(at, answered);
      if (answered) {
        answers_.emplace_back(there + latency(), user);
        continue;
      }
      slots_.push_back(at + s_.learning.modest.ping_timeout);
      std::push_heap(slots_.begin(), slots_.end(), std::greater<>{});
    }
    std::sort(answers_.begin(), answers_.end());
  }

  // Over arrivals sorted by time: for each aggregator, when it averages (the need-th model,
  // or its timeout after the first with at least min_models) and over how many; the earliest
  // aggregator that averages while online. {_, _, 0} if none does.
  Aggregation first_aggregation(const std::vector<Arrival>& arrivals) {
    Aggregation best{0, std::numeric_limits<double>::infinity(), 0};
    for (const Arrival& first : arrivals) {
      if (!(first.time < std::numeric_limits<double>::infinity())) break;
      const std::uint32_t b = first.aggregator;
      if (&first != &*std::find_if(arrivals.begin(), arrivals.end(), [&](const Arrival& a) { return a.aggregator == b; }))
        continue;  // not b's first model
      const double deadline = first.time + s_.learning.modest.timeout;
      std::size_t count = 0;
      double when = deadline;
      for (const Arrival& a : arrivals) {
        if (a.aggregator != b || a.time > deadline) continue;
        if (++count == need_) {
          when = a.time;
          break;
        }
      }
      if (count < need_ && count < s_.learning.modest.min_models) continue;
      if (!avail_.online(b, when) || !(when < best.time)) continue;
      best = {b, when, count};
    }
    return best;
  }

  const Scenario& s_;
  Bank& bank_;
  Rng& rng_;
  LearningTrialResult& result_;
  std::uint32_t n_;
  modest::Availability avail_;
  UpdateIntervals interval_;
  std::vector<double> busy_until_;
  RoundClock<Bank> clock_;  // the window, the observations and the messages counted
  Uplinks links_;           // the models' transfers, counted by clock_
  std::uint32_t sample_size_ = 0, aggregators_ = 1, need_ = 1;
  std::vector<std::uint32_t> order_, adopters_;
  std::optional<modest::ViewSync> sync_;  // under churn only
  // The overlap's samples: each trainer's (s per arrival slot) and the winning aggregator's.
  std::vector<std::uint32_t> trainer_samples_, trainer_sampled_, aggregator_sample_, accepted_slots_;
  std::uint32_t aggregator_sampled_ = 0;
  std::vector<std::uint64_t> stamp_of_;  // stamp_of_[u] == stamp_: u is in the aggregator's sample
  std::uint64_t stamp_ = 0;
  std::vector<std::pair<double, std::uint32_t>> answers_;
  std::vector<double> slots_;
};

struct Modest {
  static constexpr LearningProtocolInfo info{
      "modest", "MoDeST",
      "decentralized sampling: each round modest.sample users train the last round's average and an aggregator "
      "averages them; no server (de Vos et al., arXiv 2302.13837)",
      false, Observed::server, /*pools_data=*/false, /*reports_rounds=*/true};
  static void check(const Scenario& s);  // sim/protocols.cpp

  template <LearningBank Bank>
  static void run(const Scenario& s, const Graph&, Bank& bank, Rng& rng, std::uint64_t index, LearningTrialResult& result) {
    ModestRounds<Bank>(s, bank, rng, index, result).run();
  }
};

}  // namespace timely::sim
