#pragma once
// The users' models as a learning protocol sees them (docs/model.md §4, §6): what a
// protocol's run (sim/protocol_list.hpp) may ask of them. Two banks satisfy it: the neural
// models (NeuralBank in sim/learning.cpp: sim/model_bank.hpp's parameters, sim/mixer.hpp's
// rules, sim/observer.hpp's metrics) and the quadratic model (QuadraticLearner in
// sim/quadratic.cpp). Every protocol is compiled once per bank, so each protocol runs each
// model, and a call costs no virtual dispatch. Internal to sim/.
//
// A bank keeps its own metrics: before(t) runs before every event at time t (observations
// on the grid up to t; the quadratic model's exact time averages up to t), start_window(t)
// when the window [run.warmup, run.horizon] opens, close(t) at the horizon, and take(result)
// moves what it measured into the trial's result. Its arithmetic stops at divergence
// (LearningTrialResult::diverged_at), and a protocol must then draw from the trial's engine
// exactly what it draws otherwise wherever the draws also drive measured clocks (gossip).
#include <concepts>
#include <cstdint>
#include <span>

#include "sim/learning.hpp"
#include "sim/protocols.hpp"  // Observed: what a protocol has a bank report

namespace timely::sim {

template <class B>
concept LearningBank = requires(B& b, const B& cb, std::uint32_t u, double t, const double* bytes,
                                std::span<const std::uint32_t> users, std::span<const std::uint32_t> ids,
                                std::span<const double> weights, LearningTrialResult& result) {
  { cb.size() } -> std::same_as<std::uint32_t>;  // the users
  { cb.diverged() } -> std::same_as<bool>;
  // A local update of user u at time t: train.steps steps on its own objective (and its own
  // optimiser state, momentum).
  b.train(u, t);
  // Gossip by mixing.rule: the receiver mixes the sender's model into its own; exchange: both.
  b.mix_into(u, u, t);
  b.mix_both(u, u, t);
  // The network layer's messages (docs/model.md §7): a copy of a user's model, mixed into a
  // receiver on delivery, released after; their payload; the running count of bytes sent.
  { b.snapshot(u) } -> std::same_as<std::uint32_t>;
  b.mix_message(u, u, t);
  b.release(u);
  // Synchronous averaging (D-PSGD): user u's model becomes the weighted sum of messages
  // `ids` (snapshots taken before the round's first combine) with `weights`, summing to 1.
  b.combine(u, ids, weights, t);
  { cb.message_bytes() } -> std::convertible_to<double>;
  b.count_bytes(bytes);
  // A server's round (FedAvg): begin_round empties the round's sum; train_client(c, t) starts
  // client c from the server's model, makes one local update (without momentum) and adds the
  // result to the sum; add_client(c) adds c's current model; end_round(clients, t) makes the
  // server's model the weighted mean of the sum and hands it to the clients. The weight of a
  // user is its shard size (quadratic: 1).
  b.begin_round();
  b.train_client(u, t);
  b.add_client(u);
  b.end_round(users, t);
  // Metrics (see above).
  b.before(t);
  b.start_window(t);
  b.close(t);
  b.take(result);
};

}  // namespace timely::sim
